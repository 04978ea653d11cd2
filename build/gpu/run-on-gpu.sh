#!/bin/bash
# The GPU run (build/gpu/README.md), on the machine with the GPU, from the unpacked bundle in
# /tmp/gpu/bundle: CUDA libraries from the PyTorch install, then latency fp32/fp16/int4 on CUDA beside
# the original, accuracy on CUDA, the build's GPU validation (run-request), and ModelShrink.Runtime
# picking the CUDA variant and, with the CUDA libraries hidden, falling back to the CPU.
# Usage: run-on-gpu.sh [STEP...]  (steps: env variants bench validate request runtime; default all)
set -u
B=/tmp/gpu/bundle; E=$B/engine; M=$B/models; V=/tmp/gpu/variants; R=${OUT:-/tmp/gpu/out}
mkdir -p "$V" "$R"
TORCH=$(python3 -c 'import torch,os;print(os.path.dirname(torch.__file__))')
NV=$(ls -d "$(dirname "$TORCH")"/nvidia/*/lib | tr '\n' ':')
export LD_LIBRARY_PATH="${NV}$E"
MS="$E/modelshrink"
STEPS=${*:-env variants bench validate request runtime}
has() { [[ " $STEPS " == *" $1 "* ]]; }
holdout() { [ -d "$M/$1/test_data_set_0" ] && echo "--holdout $M/$1"; }

if has env; then
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
fi

if has variants; then
    [ -f "$M/matmul400/model.onnx" ] || { mkdir -p "$M/matmul400"; python3 "$B/make_matmul_model.py" "$M/matmul400/model.onnx"; }
    for m in digits-cnn digits-cnn-fp16-overflow digits-transformer ppocr-cls ppocr-det matmul400; do
        "$MS" compress "$M/$m/model.onnx" -o "$V/$m.fp16.onnx" --quantize Fp16 $(holdout $m) > "$V/$m.fp16.log" 2>&1; echo "$m fp16: rc $? $(head -1 "$V/$m.fp16.log")"
        "$MS" compress "$M/$m/model.onnx" -o "$V/$m.int4.onnx" --quantize Int4 > "$V/$m.int4.log" 2>&1; echo "$m int4: rc $? $(head -1 "$V/$m.int4.log")"
    done
fi

if has bench; then
    for m in digits-cnn digits-cnn-fp16-overflow digits-transformer ppocr-cls ppocr-det matmul400; do
        for f in "$M/$m/model.onnx" "$V/$m.fp16.onnx" "$V/$m.int4.onnx"; do
            echo "== bench cuda $m $(basename "$f")"
            "$MS" bench "$f" --baseline "$M/$m/model.onnx" $(holdout $m) --provider cuda --runs 50 2>&1
        done
    done
    echo "== bench cpu matmul400 (16 threads)"; "$MS" bench "$M/matmul400/model.onnx" --threads 16 --runs 20 2>&1
fi

if has validate; then
    for m in digits-cnn-fp16-overflow ppocr-det; do
        for f in "$M/$m/plain-fp16.onnx" "$V/$m.fp16.onnx"; do
            echo "== validate cuda $m $(basename "$f")"; "$MS" validate "$M/$m/model.onnx" "$f" --holdout "$M/$m" --provider cuda 2>&1
            echo "== validate cpu $m $(basename "$f")"; "$MS" validate "$M/$m/model.onnx" "$f" --holdout "$M/$m" 2>&1 | head -3
        done
    done
    for m in digits-cnn ppocr-cls digits-transformer; do
        echo "== validate cuda $m fp16"; "$MS" validate "$M/$m/model.onnx" "$V/$m.fp16.onnx" --holdout "$M/$m" --provider cuda 2>&1 | head -4
    done
fi

if has request; then
    echo "== run-request with GPU validation"
    "$MS" run-request "$M/request.json" --response "$R/response.json" 2>&1 | tail -20
    python3 -c "import json;r=json.load(open('$R/response.json'));[print(i['summary']) for i in r['items']];[print(d['code'],d['message']) for d in r['diagnostics']]"
    for d in /tmp/gpu/app/*/; do cp "$d"/*.report.json "$d"/*.runtime.json "$R/" 2>/dev/null; done
    ls -la /tmp/gpu/app/*/
fi

if has runtime; then
    RC="$E/RuntimeCheck"
    for m in ppocr-cls ppocr-det; do
        shape=""; [ $m = ppocr-det ] && shape="1,3,320,320"; [ $m = ppocr-cls ] && shape="1,3,48,192"
        echo "== runtime $m with CUDA"; "$RC" "/tmp/gpu/app/$m/$m.runtime.json" "$M/$m/model.onnx" $shape 2>&1
        # LD_LIBRARY_PATH alone does not hide them (the image's ld.so.cache knows /usr/local/cuda): a
        # private mount namespace lays empty folders over them for this one process.
        echo "== runtime $m with the CUDA libraries hidden"
        LD_LIBRARY_PATH="$E" unshare -m sh -c "mount -t tmpfs none /usr/local/cuda/targets/x86_64-linux/lib; $(for d in $(ls -d "$(dirname "$TORCH")"/nvidia); do echo "mount -t tmpfs none $d;"; done) $RC /tmp/gpu/app/$m/$m.runtime.json $M/$m/model.onnx $shape" 2>&1
    done
fi
