#!/usr/bin/env python3
"""Latency of a few models on one input at several intra-op thread counts, alternating: a cross-check of
race.py's latency column for small models, where 16 threads can measure the thread pool more than the model.

Usage: latency_probe.py INPUT.pb MODEL.onnx [MODEL.onnx ...] [--threads 1,16] [--turns 20] [--turn-ms 50]
Prints, per thread count, each model's median ms (runs in turns of at least --turn-ms, rotating order)
and its operator counts after ONNX Runtime's optimizations are not applied (as stored)."""
import argparse
import collections
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, numpy_helper


def main():
    p = argparse.ArgumentParser()
    p.add_argument("input")
    p.add_argument("models", nargs="+")
    p.add_argument("--threads", default="1,16")
    p.add_argument("--turns", type=int, default=20)
    p.add_argument("--turn-ms", type=float, default=50)
    a = p.parse_args()
    x = numpy_helper.to_array(TensorProto.FromString(open(a.input, "rb").read()))
    for m in a.models:
        ops = collections.Counter(n.op_type for n in onnx.load(m, load_external_data=False).graph.node)
        print(m, dict(sorted(ops.items())))
    for threads in [int(t) for t in a.threads.split(",")]:
        sessions = []
        for m in a.models:
            o = ort.SessionOptions()
            o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
            s = ort.InferenceSession(m, o, providers=["CPUExecutionProvider"])
            feed = {s.get_inputs()[0].name: x.astype(np.float32)}
            for _ in range(5):
                s.run(None, feed)
            sessions.append((s, feed))
        times = [[] for _ in sessions]
        for turn in range(a.turns):
            for i in [(turn + j) % len(sessions) for j in range(len(sessions))]:
                s, feed = sessions[i]
                end = time.perf_counter() + a.turn_ms / 1e3
                n = 0
                while n < 3 or time.perf_counter() < end:
                    started = time.perf_counter()
                    s.run(None, feed)
                    times[i].append((time.perf_counter() - started) * 1e3)
                    n += 1
        print(f"threads {threads}: " + ", ".join(f"{m} {statistics.median(t):.3f} ms (n={len(t)})"
                                                 for m, t in zip(a.models, times)))


if __name__ == "__main__":
    main()
