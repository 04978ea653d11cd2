#!/usr/bin/env python3
"""Quantize=Auto beside every plain mode, on the fixtures and on whatever real models are given.

For each model folder (model.onnx + test_data_set_N holdout): runs `modelshrink compress` with each
plain mode and with --quantize auto, all under the same accuracy budget (--max-drop, default 0.01),
then `modelshrink bench` of each written model against the original, interleaved. Prints one
markdown table per model: size as a ratio to the original, the headline metric and its drop,
whether the budget holds, CPU latency as a ratio to the original (one thread), and run time.
Every run is checked: a compress that fails for another reason than a broken budget, one within its
budget that wrote no model (or one over it that wrote one), or a bench that does not load and run the
written model in ONNX Runtime, ends the script with a non-zero exit code and a line naming the run.

Usage (after `dotnet build -c Release`; MODELSHRINK_CLI names another modelshrink.dll):
  python3 build/bench_auto.py [--max-drop 0.01] [--quick] [MODEL_FOLDER ...]
Without folders: the committed fixtures, plus ../shared/corpus/* when present.
--quick: three bench runs per model instead of 15, and without folders the committed fixtures only (the
test that keeps this script working runs `--quick tests/fixtures/digits-mlp`).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(os.environ.get("MODELSHRINK_CLI", ROOT / "src/ModelShrink.Cli/bin/Release/net10.0/modelshrink.dll"))
MODES = [("Int8", []), ("Int8 per tensor", ["--per-channel", "false"]), ("Int4", []), ("Fp16", []), ("Auto", [])]


def run(args):
    started = time.monotonic()
    done = subprocess.run(["dotnet", str(CLI), *args], capture_output=True, text=True)
    return done, time.monotonic() - started


def compress(model, holdout, mode, extra, out, max_drop):
    quantize = mode.split(" ")[0]
    done, seconds = run(["compress", str(model), "-o", str(out), "--quantize", quantize, "--holdout", str(holdout), "--max-drop", str(max_drop), "--json", *extra])
    if not done.stdout.strip():
        sys.exit(f"{model} {mode}: compress printed no result (exit {done.returncode}): {done.stderr.strip()[-400:]}")
    result = json.loads(done.stdout)
    broken = [d for d in result["diagnostics"] if d["severity"] in (1, "Error")]
    if done.returncode != 0 and not broken:
        sys.exit(f"{model} {mode}: compress failed without a broken budget: {done.stderr.strip()[-400:]}")
    if not broken and not (out.exists() and out.stat().st_size > 0):
        sys.exit(f"{model} {mode}: compress reported success but wrote no {out}")
    if broken and out.exists():
        sys.exit(f"{model} {mode}: compress broke a budget but wrote {out} all the same")
    return result, seconds, not broken


def latency(model, original, holdout, runs):
    done, _ = run(["bench", str(model), "--baseline", str(original), "--holdout", str(holdout), "--runs", str(runs), "--threads", "1", "--json"])
    if done.returncode != 0:
        sys.exit(f"{model}: bench failed: {done.stderr.strip()[-400:]}")
    ratio = json.loads(done.stdout)["ratio"]
    if not ratio > 0:
        sys.exit(f"{model}: bench measured no latency (ratio {ratio})")
    return ratio


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--max-drop", type=float, default=0.01)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if not CLI.exists():
        sys.exit(f"{CLI} is missing: run dotnet build -c Release first")
    corpus = [] if args.quick else sorted(p.parent for p in (ROOT.parent / "shared/corpus").glob("*/model.onnx"))
    folders = [Path(f) for f in args.folders] or sorted(p.parent for p in (ROOT / "tests/fixtures").glob("*/model.onnx")) + corpus
    missing = [str(f) for f in folders if not (f / "model.onnx").exists()]
    if missing:
        sys.exit(f"no model.onnx in {', '.join(missing)}")
    runs = 3 if args.quick else 15
    for folder in folders:
        model = folder / "model.onnx"
        print(f"\n**{folder.name}** ({model.stat().st_size / 1024:.0f} KB, --max-drop {args.max_drop})\n")
        print("| mode | size ratio | metric | drop | fits | latency ratio | time s |")
        print("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
        with tempfile.TemporaryDirectory() as temp:
            for mode, extra in MODES:
                out = Path(temp) / f"{mode.replace(' ', '-')}.onnx"
                result, seconds, fits = compress(model, folder, mode, extra, out, args.max_drop)
                validation = result["validation"]
                values = validation["values"] if validation else {}
                name = result.get("chosenName") if mode == "Auto" else mode
                if mode == "Auto" and not fits:
                    name = "Auto (nothing fits)"
                ratio = result["compression"]["sizeRatio"]
                speed = f"{latency(out, model, folder, runs):.2f}" if out.exists() else "-"
                metric = f"{validation['value']:.4f}" if validation else "-"
                drop = values.get("originalAccuracy")
                drop = f"{(drop - validation['value']) if drop is not None else 1 - validation['value']:.4f}" if validation else "-"
                print(f"| {name} | {ratio:.3f} | {metric} | {drop} | {'yes' if fits else 'no'} | {speed} | {seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
