#!/usr/bin/python3
"""Build a larger holdout for the PaddleOCR text-line orientation classifier (ppocr-cls).

Usage: make_cls_holdout.py ASSETS_DIR OUT_DIR [--sets N] [--seed N]

The shared corpus's ppocr-cls holdout has 128 crops: split in halves for fitting and scoring, one
crop is 1.6 points of accuracy. This writes OUT/ppocr-cls-512/model.onnx, test_data_set_0..N-1
(16 crops each, default 32 sets = 512 crops) and labels.json: text lines rendered with the DejaVu
fonts as make_ocr_holdout.py renders them, every second one rotated 180 degrees (label 1; 0 =
upright), preprocessed as PaddleOCR's classifier expects: height 48 keeping the aspect, width at
most 192, right-padded with 0, (v/255 - 0.5)/0.5, CHW. Needs numpy, onnx, PIL and DejaVu fonts.
"""
import argparse
import json
import os
import random

from make_ocr_holdout import find_fonts, line_preprocess, random_text, render_line, write_sets

CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
CLS_H, CLS_W, CLS_BATCH = 48, 192, 16


def cls_preprocess(img):
    """The orientation classifier: 48 high, at most 192 wide."""
    return line_preprocess(img, CLS_H, CLS_W)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("assets")
    ap.add_argument("out")
    ap.add_argument("--sets", type=int, default=32)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--save-png", action="store_true", help="also write the rendered images")
    args = ap.parse_args()
    fonts = find_fonts()
    rng = random.Random(args.seed)
    labels, texts = [], []

    def crop():
        img, text = render_line(rng, fonts, random_text(rng))
        rotated = len(labels) % 2 == 1
        labels.append(1 if rotated else 0)
        texts.append(text)
        return img.rotate(180) if rotated else img

    dst = write_sets(args, CLS_MODEL, "ppocr-cls-512", args.sets, CLS_BATCH, crop, cls_preprocess)
    with open(os.path.join(dst, "labels.json"), "w") as f:
        json.dump({"labels": labels, "texts": texts}, f)


if __name__ == "__main__":
    main()
