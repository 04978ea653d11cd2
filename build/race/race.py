#!/usr/bin/env python3
"""The race: `modelshrink compress` against ONNX Runtime's Python quantization tool, same jobs, same machine.

Generates the models (a 400 MB MatMul, a 3 GB chain of MatMuls with external data, a generated VGG-style
Conv net, the committed digits-cnn fixture) with their calibration and evaluation inputs, then for every
job runs the peer and ours alternately, ROUNDS rounds, each run in its own process on the same cores:

  job               ONNX Runtime's tool                                 ours
  int8 per-tensor   quantize_dynamic(per_channel=False, QInt8)          compress --quantize int8 --per-tensor
  int8 per-channel  quantize_dynamic(per_channel=True, QInt8)           compress --quantize int8 --per-channel
  int4              MatMulNBitsQuantizer(block 32, symmetric)           compress --quantize int4 (MatMul models)
  int8 static       quantize_static(QDQ, MinMax, per-tensor, U8 acts,   compress --quantize int8static --per-tensor
                    S8 weights, a reader over the calibration sets)     --calibration SETS

Each run: wall time of the process and peak RSS (os.wait4), and for the peer also the time inside the
quantization call alone (without Python's start and imports). Then each pair of outputs is scored with
ONNX Runtime against the float model on evaluation inputs the calibration never saw: size (files and
external data), latency (one session each, float / peer / ours in alternating rounds) and agreement
(cosine, max abs difference, top-1 agreement for the classifiers).

Every run of ours is checked: exit 0, an output that holds what its job promises (MatMulInteger or int8
weights, MatMulNBits, QuantizeLinear/DequantizeLinear) at a quantized size; otherwise the script stops
with a line naming the run and exits 1 (a table measured on a failure measures nothing). A failure of the
peer is a result: its row says FAILED and why.

Usage:
  race.py --cli 'CMD' [--models matmul400,matmul3g,cnn,digits-cnn] [--jobs int8-per-tensor,...]
          [--rounds 3] [--cores 0-15] [--work DIR] [--out DIR] [--fixtures DIR] [--minimal]
--cli: how to start ours, e.g. 'bundle/modelshrink' (self-contained) or 'dotnet path/modelshrink.dll'.
--minimal: a tiny MatMul (256x256) and digits-cnn, one round: what tests/ModelShrink.Build.Tests runs.
Without onnxruntime only ours runs (checked as above); the peer's rows and the scores say 'not installed'.
Writes race-results.json (every run) and race-results.md (the table) to --out.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
JOBS = ["int8-per-tensor", "int8-per-channel", "int4", "int8-static"]
OURS_ARGS = {
    "int8-per-tensor": ["--quantize", "int8", "--per-tensor"],
    "int8-per-channel": ["--quantize", "int8", "--per-channel"],
    "int4": ["--quantize", "int4"],
    "int8-static": ["--quantize", "int8static", "--per-tensor"],
}
# What "no slower to run" tolerates: latency medians closer than this are within the run-to-run spread.
LATENCY_TOLERANCE = 1.05
LATENCY_TURN_MS = 25  # ms: each latency turn runs a session at least this long (and at least three times)
SPEED_GOAL = 0.2  # ours/peer: at least 5x faster
NOT_INSTALLED = "onnxruntime not installed"


# ---------------------------------------------------------------- models and data

class ModelSpec:
    def __init__(self, name, make, input_shape, classifier=False, calib_sets=8, eval_sets=4):
        self.name, self.make, self.input_shape, self.classifier = name, make, input_shape, classifier
        self.calib_sets, self.eval_sets = calib_sets, eval_sets


def matmul_model(path, side, layers, external):
    """A chain of `layers` side x side float32 MatMuls, weights uniform in +-0.05 (numpy seed 42), as
    tests/ModelShrink.Testing GeneratedModels.MatMulChain (values differ, shape and distribution do not).
    With `external` the weights go to path.data, written tensor by tensor (no 3 GB protobuf in memory)."""
    rng = np.random.default_rng(42)
    nodes, initializers, current = [], [], "x"
    data = open(str(path) + ".data", "wb") if external else None
    try:
        for layer in range(layers):
            w = (rng.random((side, side), dtype=np.float32) * 2 - 1) * np.float32(0.05)
            name, output = f"W{layer}", ("y" if layer == layers - 1 else f"h{layer}")
            if data is None:
                tensor = numpy_helper.from_array(w, name)
            else:
                tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[side, side])
                tensor.data_location = TensorProto.EXTERNAL
                offset = data.tell()
                data.write(w.tobytes())
                for key, value in (("location", Path(path).name + ".data"), ("offset", str(offset)), ("length", str(w.nbytes))):
                    entry = tensor.external_data.add()
                    entry.key, entry.value = key, value
            initializers.append(tensor)
            nodes.append(helper.make_node("MatMul", [current, name], [output], name=f"matmul{layer}"))
            current = output
    finally:
        if data is not None:
            data.close()
    graph = helper.make_graph(nodes, "matmul", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", side])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", side])], initializers)
    save(graph, path)


def cnn_model(path):
    """A VGG-style Conv net, about 40 MB: 3x3 Conv+Relu stages of 64-128-256-512 channels with max pools,
    global average pool and a 1000-way Gemm; He-normal weights (seed 7) so activations keep their scale."""
    rng = np.random.default_rng(7)
    stages = [64, 64, "pool", 128, 128, "pool", 256, 256, "pool", 512, 512, "pool", 512, 512]
    nodes, initializers, current, channels = [], [], "x", 3
    for i, stage in enumerate(stages):
        if stage == "pool":
            nodes.append(helper.make_node("MaxPool", [current], [f"p{i}"], kernel_shape=[2, 2], strides=[2, 2], name=f"pool{i}"))
            current = f"p{i}"
            continue
        w = rng.normal(0, np.sqrt(2 / (channels * 9)), (stage, channels, 3, 3)).astype(np.float32)
        b = rng.normal(0, 0.01, stage).astype(np.float32)
        initializers += [numpy_helper.from_array(w, f"conv{i}.w"), numpy_helper.from_array(b, f"conv{i}.b")]
        nodes.append(helper.make_node("Conv", [current, f"conv{i}.w", f"conv{i}.b"], [f"c{i}"], pads=[1, 1, 1, 1], name=f"conv{i}"))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
        current, channels = f"r{i}", stage
    initializers += [numpy_helper.from_array(rng.normal(0, np.sqrt(1 / channels), (1000, channels)).astype(np.float32), "fc.w"),
                     numpy_helper.from_array(np.zeros(1000, np.float32), "fc.b")]
    nodes += [helper.make_node("GlobalAveragePool", [current], ["gap"], name="gap"),
              helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
              helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1, name="fc")]
    graph = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 64, 64])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 1000])], initializers)
    save(graph, path)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def write_sets(folder, first, count, shape, seed):
    """count test_data_set_N folders (N from first) of one float32 input each, standard normal."""
    rng = np.random.default_rng(seed)
    for n in range(first, first + count):
        d = folder / f"test_data_set_{n}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "input_0.pb").write_bytes(numpy_helper.from_array(rng.standard_normal(shape, dtype=np.float32)).SerializeToString())


def load_sets(folder):
    sets = []
    for d in sorted(Path(folder).glob("test_data_set_*"), key=lambda p: int(p.name.rsplit("_", 1)[1])):
        files = sorted(d.glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        sets.append([numpy_helper.to_array(TensorProto.FromString(f.read_bytes())) for f in files])
    return sets


def specs(fixtures):
    def fixture(name):
        def make(path):
            shutil.copyfile(fixtures / name / "model.onnx", path)
        return make
    return {
        "matmul-tiny": ModelSpec("matmul-tiny", lambda p: matmul_model(p, 256, 1, False), [4, 256]),
        "matmul400": ModelSpec("matmul400", lambda p: matmul_model(p, 10240, 1, False), [4, 10240]),
        "matmul3g": ModelSpec("matmul3g", lambda p: matmul_model(p, 8192, 12, True), [4, 8192]),
        "cnn": ModelSpec("cnn", cnn_model, [1, 3, 64, 64], classifier=True, calib_sets=16),
        "digits-cnn": ModelSpec("digits-cnn", fixture("digits-cnn"), None, classifier=True),
    }


def prepare(spec, work, fixtures):
    """work/NAME/model.onnx, calib/ (calibration sets), eval/ (evaluation sets, disjoint from calib)."""
    folder = work / spec.name
    model = folder / "model.onnx"
    if not model.exists():
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        spec.make(model)
        if spec.input_shape is None:  # a fixture: its own holdout sets, first half calibrates, second half scores
            own = sorted((fixtures / spec.name).glob("test_data_set_*"), key=lambda p: int(p.name.rsplit("_", 1)[1]))
            half = len(own) // 2
            for i, d in enumerate(own):
                target = folder / ("calib" if i < half else "eval") / d.name
                target.mkdir(parents=True)
                shutil.copyfile(d / "input_0.pb", target / "input_0.pb")
        else:
            write_sets(folder / "calib", 0, spec.calib_sets, spec.input_shape, 1)
            write_sets(folder / "eval", spec.calib_sets, spec.eval_sets, spec.input_shape, 2)
        print(f"{spec.name}: generated in {time.perf_counter() - started:.1f} s, {model_bytes(folder) / 2**20:.1f} MiB", flush=True)
    return folder


def model_bytes(folder):
    return sum(f.stat().st_size for f in Path(folder).iterdir() if f.is_file() and f.name.startswith("model.onnx"))


def has_external_data(model):
    return Path(str(model) + ".data").exists()


# ---------------------------------------------------------------- the peer, in its own process

def peer_job(job, source, output, calib, external):
    """One run of ONNX Runtime's tool; prints the seconds inside the call (load, quantize, save)."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    started = time.perf_counter()
    if job in ("int8-per-tensor", "int8-per-channel"):
        quantize_dynamic(source, output, per_channel=job == "int8-per-channel", weight_type=QuantType.QInt8,
                         use_external_data_format=external)
    elif job == "int4":
        quantizer = MatMulNBitsQuantizer(onnx.load(source), block_size=32, is_symmetric=True)
        quantizer.process()
        quantizer.model.save_model_to_file(output, external)
    elif job == "int8-static":
        class Reader(CalibrationDataReader):
            def __init__(self):
                name = onnx.load(source, load_external_data=False).graph.input[0].name
                self.feeds = iter([{name: s[0]} for s in load_sets(calib)])

            def get_next(self):
                return next(self.feeds, None)
        quantize_static(source, output, Reader(), quant_format=QuantFormat.QDQ, per_channel=False,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, use_external_data_format=external)
    else:
        raise ValueError(job)
    print(f"PEER_CALL_SECONDS {time.perf_counter() - started:.4f}", flush=True)


# ---------------------------------------------------------------- timing

# Starts one command and reports its exit code, wall seconds and peak RSS (wait4's rusage). It runs in
# a fresh interpreter because a child's peak RSS starts from its parent's RSS at the fork: forked from
# this process (gigabytes after generating and scoring models) every run would report at least that.
RUNNER = """
import json, os, subprocess, sys, time
with open(sys.argv[1], "w") as out:
    started = time.perf_counter()
    process = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
process.returncode = os.waitstatus_to_exitcode(status)
print(json.dumps({"rc": process.returncode, "seconds": seconds, "peak_rss_kib": usage.ru_maxrss}))
"""


def timed(command, log):
    """Runs command; (exit code, wall seconds, peak RSS MiB) of that one process."""
    done = subprocess.run([sys.executable, "-c", RUNNER, str(log), *command], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"the runner could not start {command[0]}: {done.stderr.strip()[-300:]}")
    report = json.loads(done.stdout)
    return report["rc"], report["seconds"], report["peak_rss_kib"] / 1024


def folder_bytes(folder):
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def run_peer(job, folder, out_dir, log):
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    source = folder / "model.onnx"
    command = [sys.executable, str(Path(__file__).resolve()), "--peer-job", job, str(source), str(out_dir / "model.onnx"),
               str(folder / "calib"), "1" if has_external_data(source) else "0"]
    rc, seconds, rss = timed(command, log)
    text = Path(log).read_text(errors="replace")
    call = next((float(line.split()[1]) for line in text.splitlines() if line.startswith("PEER_CALL_SECONDS")), None)
    if rc != 0 or call is None:
        lines = [l for l in text.strip().splitlines() if l.strip()]
        return {"error": (lines[-1] if lines else f"exit {rc}")[:300]}
    return {"seconds": seconds, "call_seconds": call, "peak_rss_mib": rss, "bytes": folder_bytes(out_dir)}


def run_ours(cli, job, folder, out_dir, log, spec):
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    output = out_dir / "model.onnx"
    extra = ["--calibration", str(folder / "calib")] if job == "int8-static" else []
    rc, seconds, rss = timed([*cli, "compress", str(folder / "model.onnx"), "-o", str(output), *OURS_ARGS[job], *extra], log)
    if rc != 0:
        lines = [l for l in Path(log).read_text(errors="replace").strip().splitlines() if l.strip()]
        fail(f"ours {job} on {spec.name} failed (exit {rc}): {lines[-1] if lines else ''}")
    check_ours(job, folder, output, spec)
    return {"seconds": seconds, "peak_rss_mib": rss, "bytes": folder_bytes(out_dir)}


def check_ours(job, folder, output, spec):
    """The output holds what the job promises, at a quantized size."""
    if not output.exists():
        fail(f"ours {job} on {spec.name} exited 0 but wrote no {output}")
    model = onnx.load(str(output), load_external_data=False)
    ops = {n.op_type for n in model.graph.node}
    small = {t.data_type for t in model.graph.initializer}
    ratio = folder_bytes(output.parent) / model_bytes(folder)
    if job.startswith("int8-per"):
        holds = "MatMulInteger" in ops or "ConvInteger" in ops or TensorProto.INT8 in small or TensorProto.UINT8 in small
        limit = 0.4
    elif job == "int4":
        holds, limit = "MatMulNBits" in ops, 0.25
    else:
        holds, limit = {"QuantizeLinear", "DequantizeLinear"} <= ops, 0.4
    if not holds or ratio > limit:
        fail(f"ours {job} on {spec.name} wrote a model that is not quantized as the job asks: ops {sorted(ops)}, "
             f"size {ratio:.3f} of the original (at most {limit})")


def fail(message):
    print(f"race: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def copy_seconds(folder, scratch):
    """The baseline of the machine's disk: copying the model's files."""
    scratch.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for f in Path(folder).iterdir():
        if f.is_file() and f.name.startswith("model.onnx"):
            shutil.copyfile(f, scratch / f.name)
    seconds = time.perf_counter() - started
    shutil.rmtree(scratch)
    return seconds


# ---------------------------------------------------------------- scoring with ONNX Runtime

def session(ort, path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_sets(sess, sets):
    names = [i.name for i in sess.get_inputs()]
    return [sess.run(None, dict(zip(names, s))) for s in sets]


def agreement(reference, outputs, classifier):
    x = np.concatenate([r[0].ravel() for r in reference]).astype(np.float64)
    y = np.concatenate([o[0].ravel() for o in outputs]).astype(np.float64)
    score = {"cosine": float(x @ y / np.sqrt((x @ x) * (y @ y))), "max_abs": float(np.abs(x - y).max()),
             "max_abs_relative": float(np.abs(x - y).max() / np.abs(x).max())}
    if classifier:
        a = np.concatenate([r[0].reshape(r[0].shape[0], -1).argmax(-1) for r in reference])
        b = np.concatenate([o[0].reshape(o[0].shape[0], -1).argmax(-1) for o in outputs])
        score["top1_agreement"] = float((a == b).mean())
    return score


def op_counts(path):
    counts = {}
    for node in onnx.load(str(path), load_external_data=False).graph.node:
        key = (node.domain + "." if node.domain not in ("", "ai.onnx") else "") + node.op_type
        counts[key] = counts.get(key, 0) + 1
    return dict(sorted(counts.items()))


def initializer_bytes(path):
    """Bytes of initializers by element type (inline or external), to see where two outputs' sizes differ."""
    by_type = {}
    for t in onnx.load(str(path), load_external_data=False).graph.initializer:
        length = next((int(e.value) for e in t.external_data if e.key == "length"), None)
        if length is None:
            length = len(t.raw_data) or t.ByteSize()
        key = TensorProto.DataType.Name(t.data_type)
        by_type[key] = by_type.get(key, 0) + length
    return by_type


def latencies(sessions, feed_set, rounds):
    """Median ms of each session on one input; the sessions take turns in rotating order, each turn at least
    three runs and at least LATENCY_TURN_MS of runs (a 0.4 ms model gets about 60 a turn: with 16 intra-op
    threads a handful of sub-millisecond runs measured the thread pool's wake-ups, not the model)."""
    feeds = [dict(zip([i.name for i in s.get_inputs()], feed_set)) for s in sessions]
    times = [[] for _ in sessions]
    runs = []
    for s, f in zip(sessions, feeds):
        for _ in range(2):
            s.run(None, f)
        started = time.perf_counter()
        s.run(None, f)
        runs.append(max(3, min(200, int(LATENCY_TURN_MS / max((time.perf_counter() - started) * 1e3, 1e-3)))))
    for r in range(rounds):
        order = list(range(len(sessions)))
        order = order[r % len(order):] + order[:r % len(order)]
        for i in order:
            for _ in range(runs[i]):
                started = time.perf_counter()
                sessions[i].run(None, feeds[i])
                times[i].append((time.perf_counter() - started) * 1e3)
    return [statistics.median(t) for t in times]


# ---------------------------------------------------------------- the race

def median(values):
    return statistics.median(values) if values else None


def race(args):
    affinity = parse_cores(args.cores) if args.cores else sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, affinity)  # every process started below inherits it: the peer and ours on the same cores
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    cli = shlex.split(args.cli)
    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    fixtures = Path(args.fixtures)
    all_specs = specs(fixtures)
    version = subprocess.run([*cli, "--version"], capture_output=True, text=True)
    if version.returncode != 0:
        fail(f"ours does not start: {' '.join(cli)} --version exited {version.returncode}: {version.stderr.strip()[-300:]}")
    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": {"cpu": cpu_model(), "logical_cpus": os.cpu_count(), "cores_used": affinity, "memory_gib": memory_gib(),
                    "os": platform.platform()},
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__ if ort else None, "ours": version.stdout.strip()},
        "config": {"rounds": args.rounds, "latency_rounds": args.latency_rounds, "latency_threads": len(affinity),
                   "speed_goal": SPEED_GOAL, "latency_tolerance": LATENCY_TOLERANCE, "latency_turn_ms": LATENCY_TURN_MS},
        "models": {},
    }
    print(f"race: {len(affinity)} cores, onnxruntime {results['versions']['onnxruntime'] or 'not installed'}, ours {results['versions']['ours']}", flush=True)
    for name in args.models:
        spec = all_specs[name]
        folder = prepare(spec, work, fixtures)
        source = folder / "model.onnx"
        jobs = [j for j in args.jobs if j != "int4" or any(n.op_type == "MatMul" for n in onnx.load(str(source), load_external_data=False).graph.node)]
        for f in folder.iterdir():  # both sides read the source from the page cache
            if f.is_file() and f.name.startswith("model.onnx"):
                with open(f, "rb") as r:
                    while r.read(1 << 24):
                        pass
        entry = {"bytes": model_bytes(folder), "copy_seconds": copy_seconds(folder, work / "copy"), "jobs": {}}
        results["models"][name] = entry
        for job in jobs:
            entry["jobs"][job] = {"peer": [], "ours": []}
        for r in range(args.rounds):
            for job in jobs:
                runs = entry["jobs"][job]
                sides = ["peer", "ours"] if r % 2 == 0 else ["ours", "peer"]
                for side in sides:
                    out_dir = work / "out" / name / job / side
                    log = work / "out" / f"{name}-{job}-{side}.log"
                    log.parent.mkdir(parents=True, exist_ok=True)
                    if side == "ours":
                        runs["ours"].append(run_ours(cli, job, folder, out_dir, log, spec))
                    elif ort is None:
                        runs["peer"].append({"error": NOT_INSTALLED})
                    else:
                        runs["peer"].append(run_peer(job, folder, out_dir, log))
                print(f"{name} {job} round {r + 1}: peer {brief(runs['peer'][-1])}, ours {brief(runs['ours'][-1])}", flush=True)
            write(results, out)  # what a run cut short by a time limit leaves is still a table
        if ort is not None:
            score(ort, spec, folder, work / "out" / name, entry, len(affinity), args.latency_rounds)
        write(results, out)
    write(results, out)
    print((out / "race-results.md").read_text())


def score(ort, spec, folder, outputs, entry, threads, rounds):
    evaluation = load_sets(folder / "eval")
    reference_session = session(ort, folder / "model.onnx", threads)
    reference = run_sets(reference_session, evaluation)
    for job, runs in entry["jobs"].items():
        paths = {side: outputs / job / side / "model.onnx" for side in ("peer", "ours")}
        live = [side for side in ("peer", "ours") if "error" not in runs[side][-1] and paths[side].exists()]
        sessions = {}
        for side in live:
            try:
                sessions[side] = session(ort, paths[side], threads)
                runs[side + "_score"] = agreement(reference, run_sets(sessions[side], evaluation), spec.classifier)
                runs[side + "_score"]["ops"] = op_counts(paths[side])
                runs[side + "_score"]["initializer_bytes"] = initializer_bytes(paths[side])
            except Exception as e:  # noqa: BLE001 - the peer's output may not load; that is its result
                if side == "ours":
                    fail(f"ours {job} on {spec.name}: ONNX Runtime cannot run the output: {e}")
                runs["peer_score"] = {"error": f"{type(e).__name__}: {e}"[:300]}
        order = [reference_session] + [sessions[s] for s in ("peer", "ours") if s in sessions]
        ms = latencies(order, evaluation[0], rounds)
        runs["latency_ms"] = dict(zip(["float"] + [s for s in ("peer", "ours") if s in sessions], ms))
        print(f"{spec.name} {job}: latency {runs['latency_ms']}, peer {runs.get('peer_score')}, ours {runs.get('ours_score')}", flush=True)
        del sessions


def brief(run):
    if "error" in run:
        return ("" if run["error"] == NOT_INSTALLED else "FAILED ") + run["error"][:120]
    call = f" (call {run['call_seconds']:.2f} s)" if "call_seconds" in run else ""
    return f"{run['seconds']:.2f} s{call}, {run['peak_rss_mib']:.0f} MiB, {run['bytes'] / 2**20:.1f} MiB out"


# ---------------------------------------------------------------- the table

def summarize(job_runs):
    peer = [r for r in job_runs["peer"] if "error" not in r]
    ours = job_runs["ours"]
    row = {"ours_seconds": median([r["seconds"] for r in ours]), "ours_rss": max(r["peak_rss_mib"] for r in ours),
           "ours_bytes": ours[-1]["bytes"]}
    if not peer:
        row["peer_error"] = job_runs["peer"][-1]["error"] if job_runs["peer"] else "not run"
        return row
    row.update(peer_seconds=median([r["seconds"] for r in peer]), peer_call=median([r["call_seconds"] for r in peer]),
               peer_rss=max(r["peak_rss_mib"] for r in peer), peer_bytes=peer[-1]["bytes"])
    row["ratio"] = row["ours_seconds"] / row["peer_seconds"]
    row["ratio_call"] = row["ours_seconds"] / row["peer_call"]
    # Per round: ours over the peer of the same round (the two ran back to back).
    row["round_ratios"] = [o["seconds"] / p["seconds"] for o, p in zip(ours, job_runs["peer"]) if "error" not in p]
    return row


def verdict(row, runs):
    if "peer_error" in row:
        return "peer failed" if row["peer_error"] != NOT_INSTALLED else "-"
    misses = []
    if row["ratio"] > SPEED_GOAL:
        misses.append("speed")
    if row["ours_bytes"] > row["peer_bytes"]:
        misses.append("size")
    lat = runs.get("latency_ms", {})
    if "peer" in lat and "ours" in lat and lat["ours"] > lat["peer"] * LATENCY_TOLERANCE:
        misses.append("latency")
    return "yes" if not misses else "no: " + ", ".join(misses)


def fmt(value, pattern="{:.2f}"):
    return "-" if value is None else pattern.format(value)


def score_text(s):
    if not s:
        return "-"
    if "error" in s:
        return "FAILED"
    top1 = f", top-1 {s['top1_agreement']:.3f}" if "top1_agreement" in s else ""
    return f"{s['cosine']:.5f} / {s['max_abs']:.3g}{top1}"


def write(results, out):
    (out / "race-results.json").write_text(json.dumps(results, indent=1))
    m = results["machine"]
    lines = [f"Race of {results['date']} on {m['cpu']} ({len(m['cores_used'])} of {m['logical_cpus']} logical CPUs, "
             f"{m['memory_gib']:.0f} GiB); onnxruntime {results['versions']['onnxruntime']}, onnx {results['versions']['onnx']}, "
             f"ours {results['versions']['ours']}; {results['config']['rounds']} rounds, peer and ours alternating, "
             f"each run its own process on the same cores; latency with {results['config']['latency_threads']} intra-op threads.",
             "",
             "| model | job | peer s (in call) | ours s | ours/peer (/in call) | peak RSS MiB peer / ours | output MiB peer / ours "
             "| latency ms float / peer / ours | cosine / max abs peer | cosine / max abs ours | goal |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|"]
    for name, entry in results["models"].items():
        for job, runs in entry["jobs"].items():
            if not runs["ours"]:
                continue
            row = summarize(runs)
            runs["summary"] = row
            lat = runs.get("latency_ms", {})
            label = f"{name} ({entry['bytes'] / 2**20:.0f} MiB, copy {entry['copy_seconds']:.2f} s)"
            if "peer_error" in row:
                peer_time, ratio, rss, size = (row["peer_error"] if row["peer_error"] == NOT_INSTALLED else f"FAILED: {row['peer_error'][:90]}"), "-", f"- / {row['ours_rss']:.0f}", f"- / {row['ours_bytes'] / 2**20:.2f}"
            else:
                peer_time = f"{row['peer_seconds']:.2f} ({row['peer_call']:.2f})"
                ratio = f"{row['ratio']:.3f} ({row['ratio_call']:.3f})"
                rss = f"{row['peer_rss']:.0f} / {row['ours_rss']:.0f}"
                size = f"{row['peer_bytes'] / 2**20:.2f} / {row['ours_bytes'] / 2**20:.2f}"
            latency = " / ".join(fmt(lat.get(k), "{:.3f}") for k in ("float", "peer", "ours"))
            lines.append(f"| {label} | {job} | {peer_time} | {row['ours_seconds']:.2f} | {ratio} | {rss} | {size} | {latency} "
                         f"| {score_text(runs.get('peer_score'))} | {score_text(runs.get('ours_score'))} | {verdict(row, runs)} |")
    (out / "race-results.md").write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------- machine facts

def cpu_model():
    try:
        return next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown CPU"


def memory_gib():
    try:
        return int(next(l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal"))) / 2**20
    except (OSError, StopIteration):
        return 0.0


def parse_cores(text):
    cores = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        cores += range(int(low), int(high or low) + 1)
    return cores


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--peer-job":
        _, _, job, source, output, calib, external = sys.argv
        peer_job(job, source, output, calib, external == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cli", required=True)
    parser.add_argument("--models", default="matmul400,cnn,digits-cnn,matmul3g")
    parser.add_argument("--jobs", default=",".join(JOBS))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-rounds", type=int, default=10)
    parser.add_argument("--cores", default=None, help="e.g. 0-15 (default: every core this process may use)")
    parser.add_argument("--work", default="/tmp/race-work")
    parser.add_argument("--out", default=os.environ.get("OUT", "/tmp/race-out"))
    parser.add_argument("--fixtures", default=str(HERE.parents[1] / "tests" / "fixtures"))
    parser.add_argument("--minimal", action="store_true", help="matmul-tiny and digits-cnn, one round")
    args = parser.parse_args()
    if args.minimal:
        args.models, args.rounds, args.latency_rounds = "matmul-tiny,digits-cnn", 1, 2
    args.models = [m for m in args.models.split(",") if m]
    args.jobs = [j for j in args.jobs.split(",") if j]
    unknown = [m for m in args.models if m not in specs(Path(args.fixtures))] + [j for j in args.jobs if j not in JOBS]
    if unknown:
        parser.error(f"unknown model or job: {', '.join(unknown)} (models: {', '.join(specs(Path(args.fixtures)))}; jobs: {', '.join(JOBS)})")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    race(args)


if __name__ == "__main__":
    main()
