#!/usr/bin/python3
"""Build holdout data for the PaddleOCR PP-OCRv4 rec/det ONNX models.

Usage: make_ocr_holdout.py ASSETS_DIR OUT_DIR [--seed N]

Writes
  OUT/ppocr-rec/model.onnx + test_data_set_0..2/input_0.pb   [16,3,48,320]
  OUT/ppocr-det/model.onnx + test_data_set_0..1/input_0.pb   [4,3,320,320]
Needs numpy, onnx, PIL (Debian: python3-numpy python3-onnx python3-pil)
and DejaVu fonts (fonts-dejavu-core).
"""
import argparse
import math
import os
import random
import shutil

import numpy as np
import onnx
from onnx import numpy_helper
from PIL import Image, ImageDraw, ImageFont

REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"
DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
REC_H, REC_W, REC_BATCH, REC_SETS = 48, 320, 16, 3
DET_HW, DET_BATCH, DET_SETS = 320, 4, 2

FONT_DIRS = ["/usr/share/fonts/truetype/dejavu"]
FONT_NAMES = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSerif.ttf",
              "DejaVuSansMono.ttf", "DejaVuSansCondensed.ttf", "DejaVuSerif-Bold.ttf"]

WORDS = ("invoice total amount date customer order number price quantity "
         "street city station market river garden office school hospital "
         "delivery receipt balance account payment address phone email "
         "model compression quantize runtime window table coffee paper "
         "north south east west monday friday january october welcome open "
         "closed exit entrance parking hotel bank airport ticket gate").split()


def find_fonts():
    fonts = []
    for d in FONT_DIRS:
        for n in FONT_NAMES:
            p = os.path.join(d, n)
            if os.path.exists(p):
                fonts.append(p)
    if not fonts:
        raise SystemExit("no DejaVu fonts found (apt-get install fonts-dejavu-core)")
    return fonts


def random_text(rng):
    kind = rng.choice(["words", "number", "mix", "mix"])
    if kind == "words":
        n = rng.randint(1, 4)
        ws = [rng.choice(WORDS) for _ in range(n)]
        if rng.random() < 0.4:
            ws[0] = ws[0].capitalize()
        if rng.random() < 0.2:
            ws = [w.upper() for w in ws]
        return " ".join(ws)
    if kind == "number":
        f = rng.choice(["int", "money", "date", "phone"])
        if f == "int":
            return str(rng.randint(0, 999999))
        if f == "money":
            return "%d.%02d" % (rng.randint(0, 9999), rng.randint(0, 99))
        if f == "date":
            return "%04d-%02d-%02d" % (rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28))
        return "%03d-%03d-%04d" % (rng.randint(100, 999), rng.randint(100, 999), rng.randint(0, 9999))
    w = rng.choice(WORDS).capitalize()
    f = rng.choice([
        lambda: "%s %d" % (w, rng.randint(1, 999)),
        lambda: "%s: $%d.%02d" % (w, rng.randint(1, 999), rng.randint(0, 99)),
        lambda: "No.%d %s" % (rng.randint(1, 99), rng.choice(WORDS)),
        lambda: "%s %s %dkg" % (w, rng.choice(WORDS), rng.randint(1, 50)),
        lambda: "%s #%04d" % (w.upper(), rng.randint(0, 9999)),
    ])
    return f()


def light_color(rng):
    return tuple(rng.randint(200, 255) for _ in range(3))


def dark_color(rng):
    return tuple(rng.randint(0, 70) for _ in range(3))


def render_line(rng, fonts, text):
    """Render one text line crop (RGB PIL image) with a small margin.
    Trailing words are dropped while the crop would be wider than 320/48
    aspect, so it is not squeezed by the resize. Returns (image, text)."""
    font = ImageFont.truetype(rng.choice(fonts), rng.randint(24, 40))
    l, t, r, b = font.getbbox(text)
    while (r - l) * REC_H > REC_W * (b - t) and " " in text:
        text = text.rsplit(" ", 1)[0]
        l, t, r, b = font.getbbox(text)
    mx, my = rng.randint(2, 8), rng.randint(2, 6)
    img = Image.new("RGB", (r - l + 2 * mx, b - t + 2 * my), light_color(rng))
    ImageDraw.Draw(img).text((mx - l, my - t), text, font=font, fill=dark_color(rng))
    return img, text


def line_preprocess(img, height, width):
    """PaddleOCR's text-line input: resize to `height` keeping the aspect (width
    capped at `width`), (v/255-0.5)/0.5, CHW, zero-pad right to `width`."""
    w, h = img.size
    rw = min(width, int(math.ceil(height * w / float(h))))
    img = img.resize((rw, height), Image.BILINEAR)
    a = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    a = (a - 0.5) / 0.5
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:, :, :rw] = a
    return out


def rec_preprocess(img):
    """PP-OCRv4 rec: 48 high, at most 320 wide."""
    return line_preprocess(img, REC_H, REC_W)


def render_block(rng, fonts):
    """A DET_HW x DET_HW page with several lines of text on a light background."""
    bg = light_color(rng)
    img = Image.new("RGB", (DET_HW, DET_HW), bg)
    d = ImageDraw.Draw(img)
    # soft background variation: a couple of lighter/darker rectangles
    for _ in range(rng.randint(0, 2)):
        x0, y0 = rng.randint(0, DET_HW - 40), rng.randint(0, DET_HW - 40)
        c = tuple(max(180, min(255, v + rng.randint(-25, 25))) for v in bg)
        d.rectangle([x0, y0, x0 + rng.randint(40, 200), y0 + rng.randint(40, 200)], fill=c)
    y = rng.randint(6, 30)
    while True:
        font = ImageFont.truetype(rng.choice(fonts), rng.randint(14, 30))
        text = random_text(rng)
        l, t, r, b = font.getbbox(text)
        if y + (b - t) > DET_HW - 6:
            break
        x = rng.randint(6, 40)
        # shorten over-long lines
        while x + (r - l) > DET_HW - 6 and " " in text:
            text = text.rsplit(" ", 1)[0]
            l, t, r, b = font.getbbox(text)
        if x + (r - l) <= DET_HW - 6:
            d.text((x - l, y - t), text, font=font, fill=dark_color(rng))
        y += (b - t) + rng.randint(6, 24)
    return img


MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32).reshape(3, 1, 1)


def det_preprocess(img):
    a = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
    return ((a - MEAN) / STD).astype(np.float32)


def input_name(model_path):
    m = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    return [i.name for i in m.graph.input if i.name not in inits][0]


def write_set(folder, arr, name):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(arr, name=name).SerializeToString())


def write_sets(args, model_file, folder, sets, size, make_image, preprocess):
    """Copies the model into OUT/folder and writes `sets` test_data_set folders of `size` images each."""
    src = os.path.join(args.assets, model_file)
    dst = os.path.join(args.out, folder)
    os.makedirs(dst, exist_ok=True)
    shutil.copyfile(src, os.path.join(dst, "model.onnx"))
    name = input_name(src)
    for s in range(sets):
        batch = []
        for i in range(size):
            img = make_image()
            if args.save_png:
                os.makedirs(os.path.join(dst, "png"), exist_ok=True)
                img.save(os.path.join(dst, "png", "s%d_%02d.png" % (s, i)))
            batch.append(preprocess(img))
        arr = np.stack(batch).astype(np.float32)
        write_set(os.path.join(dst, "test_data_set_%d" % s), arr, name)
        print("%s set %d: %s %s -> %s" % (folder, s, arr.shape, arr.dtype, name))
    return dst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("assets")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--save-png", action="store_true", help="also write the rendered images")
    args = ap.parse_args()
    fonts = find_fonts()

    # --- recognizer: text lines, and the strings rendered ---
    rng = random.Random(args.seed)
    texts = []

    def line():
        img, text = render_line(rng, fonts, random_text(rng))
        texts.append(text)
        return img

    dst = write_sets(args, REC_MODEL, "ppocr-rec", REC_SETS, REC_BATCH, line, rec_preprocess)
    with open(os.path.join(dst, "texts.txt"), "w") as f:
        f.write("\n".join(texts) + "\n")

    # --- detector: blocks of text on varied backgrounds ---
    det_rng = random.Random(args.seed + 1)
    write_sets(args, DET_MODEL, "ppocr-det", DET_SETS, DET_BATCH, lambda: render_block(det_rng, fonts), det_preprocess)


if __name__ == "__main__":
    main()
