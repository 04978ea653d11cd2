#!/bin/bash
# Builds what the GPU machine needs (it has no .NET and no network) and cuts it into pieces that fit
# one transfer each (build/gpu/README.md):
#   OUT/bundle/engine/        the modelshrink engine and runtime-check, self-contained linux-x64, one
#                             folder (same runtime), with ONNX Runtime's CUDA build (Gpu.Linux) in
#                             place of the CPU build's libonnxruntime.so
#   OUT/bundle/models/        the models and holdout data of the run (MODELS_DIR, copied as it is)
#   OUT/pieces/bundle.tar.xz.NN  the bundle as one xz-compressed tar, split into PIECE_MB pieces
# Usage: build/gpu/publish.sh OUT MODELS_DIR [PIECE_MB=44]
set -euo pipefail
OUT=$(realpath -m "$1"); MODELS=$(realpath "$2"); PIECE_MB=${3:-44}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GPU_VERSION=1.32.0
NATIVE=${NUGET_PACKAGES:-$HOME/.nuget/packages}/microsoft.ml.onnxruntime.gpu.linux/$GPU_VERSION/runtimes/linux-x64/native
if [ ! -f "$NATIVE/libonnxruntime_providers_cuda.so" ]; then
    # Fetch the package into the NuGet cache the way the build does (PackageDownload).
    FETCH=$(mktemp -d)
    cat > "$FETCH/fetch.csproj" <<PROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
  <ItemGroup><PackageDownload Include="Microsoft.ML.OnnxRuntime.Gpu.Linux" Version="[$GPU_VERSION]" /></ItemGroup>
</Project>
PROJ
    cp "$ROOT/nuget.config" "$FETCH/"
    dotnet restore "$FETCH/fetch.csproj"
    rm -rf "$FETCH"
fi

rm -rf "$OUT"; mkdir -p "$OUT/bundle/engine" "$OUT/pieces"
dotnet publish "$ROOT/src/ModelShrink.Cli/ModelShrink.Cli.csproj" -c Release -r linux-x64 --self-contained -o "$OUT/bundle/engine"
dotnet publish "$ROOT/build/gpu/RuntimeCheck/RuntimeCheck.csproj" -c Release -r linux-x64 --self-contained -o "$OUT/bundle/engine"
cp "$NATIVE"/libonnxruntime.so "$NATIVE"/libonnxruntime_providers_shared.so "$NATIVE"/libonnxruntime_providers_cuda.so "$OUT/bundle/engine/"
cp -r "$MODELS" "$OUT/bundle/models"
cp "$ROOT/build/gpu/make_matmul_model.py" "$ROOT/build/gpu/run-on-gpu.sh" "$OUT/bundle/"
tar -C "$OUT" -cf - bundle | xz -6 -T0 > "$OUT/bundle.tar.xz"
split -b "${PIECE_MB}M" -d -a 2 "$OUT/bundle.tar.xz" "$OUT/pieces/bundle.tar.xz."
rm "$OUT/bundle.tar.xz"
ls -l "$OUT/pieces"
