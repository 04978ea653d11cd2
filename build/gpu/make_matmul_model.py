#!/usr/bin/python3
"""Writes the ~400 MB benchmark model of tests/ModelShrink.Benchmarks/GeneratedMatMulModel.cs with
numpy and onnx (for a machine without .NET): one MatMul of x [N, 10240] by a float32 weight
[10240, 10240] drawn uniformly from +-0.05 (numpy seed 42; the C# generator's values differ, its
shape and distribution do not), opset 17.

Usage: python3 make_matmul_model.py OUT.onnx [SIDE]
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    path = sys.argv[1]
    side = int(sys.argv[2]) if len(sys.argv) > 2 else 10240
    weight = (np.random.default_rng(42).random((side, side), dtype=np.float32) * 2 - 1) * np.float32(0.05)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"], name="matmul")], "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", side])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", side])],
        [numpy_helper.from_array(weight, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.save(model, path)
    print(f"{path}: {weight.nbytes / 2**20:.0f} MiB of weights")


if __name__ == "__main__":
    main()
