#!/usr/bin/env bash
# Benchmark: compressing a model past protobuf's 2 GB limit (weights in external data), in one
# pass. Generates a 3 GB chain of MatMuls (tests/ModelShrink.Benchmarks large-model), then runs
# `modelshrink compress` with --quantize none (a 3 GB output: written with external data
# automatically) and int8 (768 MB, inline), each under /usr/bin/time for wall time and peak RSS,
# beside a plain copy of the same bytes as the baseline. Needs ~12 GB of disk and ~8 GB of memory.
#   build/bench-large-model.sh [GB] [FOLDER]    (GB 0.02: one 256 MB layer, the minimal mode the tests run)
# BASELINE_CLI=path/to/another/modelshrink.dll (an older build) adds its runs beside this one's.
set -euo pipefail
cd "$(dirname "$0")/.."
gigabytes="${1:-3}"
folder="${2:-${TMPDIR:-/tmp}/modelshrink-bench-large}"

# MODELSHRINK_CLI and MODELSHRINK_BENCHMARKS name built dlls to use instead of building them (the test does).
cli="${MODELSHRINK_CLI:-src/ModelShrink.Cli/bin/Release/net10.0/modelshrink.dll}"
benchmarks="${MODELSHRINK_BENCHMARKS:-tests/ModelShrink.Benchmarks/bin/Release/net10.0/ModelShrink.Benchmarks.dll}"
[[ -n "${MODELSHRINK_CLI:-}" ]] || dotnet build src/ModelShrink.Cli -c Release -nologo -v:q >/dev/null
[[ -n "${MODELSHRINK_BENCHMARKS:-}" ]] || dotnet build tests/ModelShrink.Benchmarks -c Release -nologo -v:q >/dev/null
if [[ ! -f "$folder/model.onnx" ]]; then
  dotnet "$benchmarks" large-model "$folder" "$gigabytes"
fi

input_bytes=$(( $(stat -c %s "$folder/model.onnx") + $(stat -c %s "$folder/model.onnx.data") ))
printf '%-28s %10s %12s %14s %s\n' run seconds "peak RSS MB" "output MB" files
# measure NAME [--may-fail] COMMAND...: this build's runs must succeed and write out.onnx, or the
# script fails naming the run (a benchmark that times a failure measures nothing).
measure() {
  local name="$1"; shift
  local may_fail=0
  if [[ "${1:-}" == "--may-fail" ]]; then may_fail=1; shift; fi
  rm -rf "$folder/out" && mkdir -p "$folder/out"
  sync
  local log="$folder/out/time.log"
  if ! /usr/bin/time -v -o "$log" "$@" >/dev/null 2>"$folder/out/stderr.log" || [[ ! -s "$folder/out/out.onnx" ]]; then
    echo "$name failed: $(cat "$folder/out/stderr.log")" >&2
    if [[ $may_fail -eq 0 ]]; then exit 1; fi
    return 0
  fi
  local seconds rss bytes
  seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s }' "$log")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
  bytes=$(find "$folder/out" -name 'out*' -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s / 1048576 }')
  printf '%-28s %10s %12s %14s %s\n' "$name" "$seconds" "$rss" "$bytes" "$(cd "$folder/out" && ls out* 2>/dev/null | tr '\n' ' ')"
}
echo "input: $(( input_bytes / 1048576 )) MB ($folder/model.onnx + .data)"
measure "baseline: cp model + data" sh -c "cp '$folder/model.onnx' '$folder/out/out.onnx' && cp '$folder/model.onnx.data' '$folder/out/out.onnx.data'"
for mode in none int8; do
  measure "compress --quantize $mode" dotnet "$cli" compress "$folder/model.onnx" -o "$folder/out/out.onnx" --quantize "$mode"
  if [[ -n "${BASELINE_CLI:-}" ]]; then
    measure "  baseline build, $mode" --may-fail dotnet "$BASELINE_CLI" compress "$folder/model.onnx" -o "$folder/out/out.onnx" --quantize "$mode" || true
  fi
done
rm -rf "$folder/out"
