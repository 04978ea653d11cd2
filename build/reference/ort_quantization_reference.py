"""Reference run: ONNX Runtime's Python quantization tool on the same models as ModelShrink.

Runs quantize_dynamic (per-tensor, per-channel) and the MatMulNBits quantizer on every model under
models/, evaluates their outputs and ModelShrink's (under ours/) with the same onnxruntime, and
times ORT's tool on a generated 400 MB MatMul model. Writes results.md and results.json to $OUT.
"""
import glob
import json
import os
import sys
import time
import traceback

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("OUT", "/tmp/out")
WORK = "/tmp/refwork"
os.makedirs(OUT, exist_ok=True)
os.makedirs(WORK, exist_ok=True)
START = time.time()
print("onnxruntime", ort.__version__, "onnx", onnx.__version__, "numpy", np.__version__, "cpus", os.cpu_count(), flush=True)

from onnxruntime.quantization import quantize_dynamic, QuantType  # noqa: E402

try:
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer as NBits
except ImportError:  # older name
    from onnxruntime.quantization.matmul_4bits_quantizer import MatMul4BitsQuantizer as NBits
try:
    from onnxruntime.quantization.shape_inference import quant_pre_process
except ImportError:
    quant_pre_process = None

results = {"versions": {"onnxruntime": ort.__version__, "onnx": onnx.__version__, "cpus": os.cpu_count()}, "models": {}, "throughput": {}}


def load_sets(folder):
    sets = []
    for d in sorted(glob.glob(os.path.join(folder, "test_data_set_*")), key=lambda p: int(p.rsplit("_", 1)[1])):
        files = sorted(glob.glob(os.path.join(d, "input_*.pb")), key=lambda p: int(p.rsplit("_", 1)[1].split(".")[0]))
        tensors = []
        for f in files:
            t = TensorProto()
            t.ParseFromString(open(f, "rb").read())
            tensors.append(numpy_helper.to_array(t))
        sets.append(tensors)
    return sets


def session(path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def feeds(sess, tensors):
    return {i.name: t for i, t in zip(sess.get_inputs(), tensors)}


def outputs(path, sets):
    s = session(path)
    names = [o.name for o in s.get_outputs()]
    return [dict(zip(names, s.run(None, feeds(s, t)))) for t in sets]


def latency(path_a, path_b, tensors):
    a, b = session(path_a), session(path_b)
    fa, fb = feeds(a, tensors), feeds(b, tensors)
    ta, tb = [], []
    for _ in range(5):
        a.run(None, fa)
        b.run(None, fb)
    t0 = time.time()
    rounds = 0
    while rounds < 10 or (time.time() - t0 < 1.5 and rounds < 300):
        for _ in range(3):
            s = time.perf_counter(); a.run(None, fa); ta.append(time.perf_counter() - s)
        for _ in range(3):
            s = time.perf_counter(); b.run(None, fb); tb.append(time.perf_counter() - s)
        rounds += 1
    return float(np.median(ta) * 1e3), float(np.median(tb) * 1e3)


def op_counts(path):
    m = onnx.load(path, load_external_data=False)
    counts = {}

    def walk(g):
        for n in g.node:
            key = (n.domain + "." if n.domain not in ("", "ai.onnx") else "") + n.op_type
            counts[key] = counts.get(key, 0) + 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for sg in a.graphs:
                    walk(sg)
    walk(m.graph)
    return dict(sorted(counts.items()))


def compare(ref, out, labels):
    r = {}
    first = list(ref[0].keys())[0]
    if labels is not None:
        a = np.concatenate([x[first] for x in ref]).argmax(-1)
        b = np.concatenate([x[first] for x in out]).argmax(-1)
        lab = np.array(labels)
        r["agreement"] = float((a == b).mean())
        r["accuracy_float"] = float((a == lab).mean())
        r["accuracy"] = float((b == lab).mean())
    cos = {}
    for k in ref[0]:
        x = np.concatenate([v[k].ravel() for v in ref]).astype(np.float64)
        y = np.concatenate([v[k].ravel() for v in out]).astype(np.float64)
        cos[k] = [float(x @ y / np.sqrt((x @ x) * (y @ y))), float(np.abs(x - y).max())]
    r["cosine_maxabs"] = cos
    return r


def evaluate(name, variant, path, source, sets, labels, ref):
    entry = {"variant": variant}
    try:
        entry["size_ratio"] = os.path.getsize(path) / os.path.getsize(source)
        entry["ops"] = op_counts(path)
        entry.update(compare(ref, outputs(path, sets), labels))
        entry["latency_float_ms"], entry["latency_ms"] = latency(source, path, sets[0])
    except Exception as e:  # noqa: BLE001
        entry["error"] = (type(e).__name__ + ": " + str(e))[:400]
    print(name, variant, json.dumps({k: v for k, v in entry.items() if k != "ops"}), flush=True)
    return entry


def ort_variants(name, source):
    """Yields (variant, path or exception) for ORT's tool on one model."""
    subgraphs = name in ("silero-vad", "digits-cnn-if")
    extra = {"EnableSubgraph": True} if subgraphs else {}
    for variant, per_channel in (("ort int8", False), ("ort int8 per-channel", True)):
        out = os.path.join(WORK, f"{name}-{variant.replace(' ', '-')}.onnx")
        try:
            t = time.time()
            quantize_dynamic(source, out, per_channel=per_channel, weight_type=QuantType.QInt8, extra_options=extra)
            yield variant, out, time.time() - t
        except Exception as e:  # noqa: BLE001
            yield variant, e, 0
    if name in ("ppocr-cls", "silero-vad") and quant_pre_process is not None:
        pre = os.path.join(WORK, f"{name}-pre.onnx")
        out = os.path.join(WORK, f"{name}-ort-pre-int8.onnx")
        try:
            quant_pre_process(source, pre)
            quantize_dynamic(pre, out, weight_type=QuantType.QInt8, extra_options=extra)
            yield "ort pre+int8", out, 0
        except Exception as e:  # noqa: BLE001
            yield "ort pre+int8", e, 0
    has_matmul = any(n.op_type == "MatMul" for n in onnx.load(source).graph.node) or name == "digits-transformer"
    if has_matmul:
        configs = [("ort int4 b32 sym", 32, True)]
        if name == "matmul-1024":
            configs.append(("ort int4 b128 zp", 128, False))
        for variant, block, sym in configs:
            out = os.path.join(WORK, f"{name}-{variant.replace(' ', '-')}.onnx")
            try:
                q = NBits(onnx.load(source), block_size=block, is_symmetric=sym)
                q.process()
                q.model.save_model_to_file(out, False)
                yield variant, out, 0
            except Exception as e:  # noqa: BLE001
                yield variant, e, 0


def run_models():
    for folder in sorted(glob.glob(os.path.join(HERE, "models", "*"))):
        name = os.path.basename(folder)
        source = os.path.join(folder, "model.onnx")
        sets = load_sets(folder)
        lf = os.path.join(folder, "labels.json")
        labels = json.load(open(lf))["labels"] if os.path.exists(lf) else None
        ref = outputs(source, sets)
        entries = []
        for variant, out, seconds in ort_variants(name, source):
            if isinstance(out, Exception):
                entries.append({"variant": variant, "error": (type(out).__name__ + ": " + str(out))[:400]})
                print(name, variant, "FAILED", entries[-1]["error"], flush=True)
            else:
                e = evaluate(name, variant, out, source, sets, labels, ref)
                e["quantize_seconds"] = seconds
                entries.append(e)
        for path in sorted(glob.glob(os.path.join(HERE, "ours", name, "*.onnx"))):
            entries.append(evaluate(name, "ours " + os.path.basename(path)[:-5], path, source, sets, labels, ref))
        results["models"][name] = entries


def run_throughput():
    side = 10240
    path = os.path.join(WORK, "matmul-400mb.onnx")
    rng = np.random.default_rng(42)
    w = ((rng.random((side, side), dtype=np.float32) * 2 - 1) * 0.05).astype(np.float32)
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"])], "matmul",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", side])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", side])],
                          [numpy_helper.from_array(w, "W")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, path)
    del w, m, g
    size = os.path.getsize(path)
    t = time.time(); import shutil; shutil.copyfile(path, path + ".copy"); results["throughput"]["file copy"] = time.time() - t
    for variant, per_channel in (("quantize_dynamic per-tensor", False), ("quantize_dynamic per-channel", True)):
        if time.time() - START > 420:
            break
        t = time.time()
        quantize_dynamic(path, os.path.join(WORK, "q400.onnx"), per_channel=per_channel, weight_type=QuantType.QInt8)
        results["throughput"][variant] = time.time() - t
        print(variant, results["throughput"][variant], flush=True)
    if time.time() - START < 400:
        t = time.time()
        q = NBits(onnx.load(path), block_size=32, is_symmetric=True)
        q.process()
        q.model.save_model_to_file(os.path.join(WORK, "q400-int4.onnx"), True)
        results["throughput"]["MatMulNBits b32 sym"] = time.time() - t
    results["throughput"]["model MB"] = size / 2 ** 20


def write():
    json.dump(results, open(os.path.join(OUT, "results.json"), "w"), indent=1)
    lines = ["| model | variant | size | agreement | accuracy float -> quantized | cosine/max-abs | latency float -> quantized (ms) | ops |", "|---|---|---|---|---|---|---|---|"]
    for name, entries in results["models"].items():
        for e in entries:
            if "error" in e:
                lines.append(f"| {name} | {e['variant']} | - | - | - | FAILED: {e['error'][:160]} | - | - |")
                continue
            acc = f"{e['accuracy_float']:.3f} -> {e['accuracy']:.3f}" if "accuracy" in e else "-"
            agr = f"{e['agreement']:.4f}" if "agreement" in e else "-"
            cos = ", ".join(f"{k} {v[0]:.5f}/{v[1]:.3g}" for k, v in e.get("cosine_maxabs", {}).items())
            lat = f"{e.get('latency_float_ms', 0):.3f} -> {e.get('latency_ms', 0):.3f}"
            ops = ", ".join(f"{k} {v}" for k, v in e.get("ops", {}).items() if k not in ("Constant",))
            lines.append(f"| {name} | {e['variant']} | {e.get('size_ratio', 0):.3f} | {agr} | {acc} | {cos} | {lat} | {ops} |")
    lines.append("")
    lines.append("throughput (seconds): " + json.dumps(results["throughput"]))
    open(os.path.join(OUT, "results.md"), "w").write("\n".join(lines))


try:
    run_models()
except Exception:  # noqa: BLE001
    traceback.print_exc()
write()
try:
    run_throughput()
except Exception:  # noqa: BLE001
    traceback.print_exc()
write()
print("done in", time.time() - START, flush=True)
