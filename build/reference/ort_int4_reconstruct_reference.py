"""Reference run: ONNX Runtime's int4 weight-only quantizer (RTN, HQQ, GPTQ) against ModelShrink's
int4 with reconstruct none / bias / layerwise, on the same calibration / held-out split.

Layout next to itself (staged by hand, not committed):
  recon/<name>/model.onnx, test_data_set_*/input_*.pb, labels.json   (fixture or corpus model)
  recon/<name>/ours-<variant>.onnx                                     (`modelshrink compress` outputs)
Calibration: the first half of the test_data_set folders; scored on the second half.
Writes recon-results.md to $OUT.
"""
import glob
import json
import os
import traceback

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("OUT", "/tmp/out")
WORK = "/tmp/reconwork"
os.makedirs(OUT, exist_ok=True)
os.makedirs(WORK, exist_ok=True)
lines = [f"onnxruntime {ort.__version__}, onnx {onnx.__version__}", "",
         "| model | variant | size ratio | held-out RMSE vs float | cosine | accuracy (float) |", "| --- | --- | ---: | ---: | ---: | --- |"]


def load_sets(folder):
    sets = sorted(glob.glob(os.path.join(folder, "test_data_set_*")), key=lambda d: int(d.rsplit("_", 1)[1]))
    return [[numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(os.path.join(s, "input_*.pb")))] for s in sets]


def run(path, sets):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return [sess.run(None, dict(zip(names, s)))[0] for s in sets]


class Reader:
    """A CalibrationDataReader that ORT's GPTQ path also iterates (its neural_compressor loader)."""

    def __init__(self, path, sets):
        sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in sess.get_inputs()]
        self.feeds = [dict(zip(self.names, s)) for s in sets]
        self.items = iter(self.feeds)

    def get_next(self):
        return next(self.items, None)

    def rewind(self):
        self.items = iter(self.feeds)

    def __iter__(self):
        return iter(self.feeds)


for folder in sorted(glob.glob(os.path.join(HERE, "recon", "*"))):
    name = os.path.basename(folder)
    model = os.path.join(folder, "model.onnx")
    sets = load_sets(folder)
    half = len(sets) // 2
    labels_file = os.path.join(folder, "labels.json")
    labels = np.array(json.load(open(labels_file))["labels"]) if os.path.exists(labels_file) else None
    held = sets[half:]
    held_labels = labels[len(labels) // len(sets) * half:] if labels is not None else None
    reference = np.concatenate(run(model, held))
    variants = {os.path.basename(p)[5:-5]: p for p in glob.glob(os.path.join(folder, "ours-*.onnx"))}
    from onnxruntime.quantization import matmul_nbits_quantizer as mnq
    configs = {
        "ort-rtn": lambda: mnq.DefaultWeightOnlyQuantConfig(block_size=32, is_symmetric=True),
        "ort-hqq": lambda: mnq.HQQWeightOnlyQuantConfig(block_size=32),
        "ort-gptq": lambda: mnq.GPTQWeightOnlyQuantConfig(calibration_data_reader=Reader(model, sets[:half]), block_size=32),
    }
    for key, make in configs.items():
        target = os.path.join(WORK, f"{name}-{key}.onnx")
        try:
            quant = mnq.MatMulNBitsQuantizer(onnx.load(model), algo_config=make())
            quant.process()
            quant.model.save_model_to_file(target, False)
            variants[key] = target
        except Exception as e:  # noqa: BLE001
            lines.append(f"| {name} | {key} | failed: {type(e).__name__}: {str(e).splitlines()[0][:120]} | | | |")
            traceback.print_exc()
    for key, path in sorted(variants.items()):
        out = np.concatenate(run(path, held))
        rmse = float(np.sqrt(np.mean((out - reference) ** 2)))
        cos = float(np.dot(out.ravel(), reference.ravel()) / (np.linalg.norm(out) * np.linalg.norm(reference)))
        acc = ""
        if held_labels is not None:
            acc = f"{np.mean(out.argmax(-1) == held_labels):.4f} ({np.mean(reference.argmax(-1) == held_labels):.4f})"
        ratio = os.path.getsize(path) / os.path.getsize(model)
        lines.append(f"| {name} | {key} | {ratio:.3f} | {rmse:.4g} | {cos:.5f} | {acc} |")

open(os.path.join(OUT, "recon-results.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
