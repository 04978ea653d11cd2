#!/usr/bin/env bash
# Benchmark: the no-op rebuild time of samples/DigitsApp with ModelShrink.Build, against the same
# app without the package, measured in the same run (the machine is noisy: read the ratio).
# Run build/run-sample.sh first (it packs the package the sample restores).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"

# The same project without the package and its items, beside the sample so it sees the same
# nuget.config, Directory.*.props and git repository.
without="samples/.bench-without/DigitsApp"
rm -rf "$without"
mkdir -p "$without"
trap 'rm -rf samples/.bench-without' EXIT
cp -r samples/DigitsApp/. "$without/"
sed -i -e '/ModelShrink.Build"/d' -e '/<CompressModel /d' "$without/DigitsApp.csproj"
rm -rf "$without/bin" "$without/obj"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() {
  local project="$1"
  dotnet build "$project" -nologo -v:q >/dev/null   # warm: restore, first build
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s%N)
    dotnet build "$project" --no-restore -nologo -v:q >/dev/null
    end=$(date +%s%N)
    echo $(( (end - start) / 1000000 ))
  done | median
}

with_ms=$(measure samples/DigitsApp)
without_ms=$(measure "$without")
echo "no-op rebuild, median of $runs: with ModelShrink.Build ${with_ms} ms, without ${without_ms} ms, ratio $(awk -v a="$with_ms" -v b="$without_ms" 'BEGIN { printf "%.2f", a / b }')"
