#!/usr/bin/env bash
# Benchmark: the no-op rebuild time of samples/DigitsApp with ModelShrink.Build, against the same
# app without the package, measured in the same run (the machine is noisy: read the ratio).
# Run build/run-sample.sh first (it packs the package the sample restores).
#
# Usage: build/bench-noop-rebuild.sh [RUNS]   (default 7; 1 is the minimal mode the tests run)
#
# Every build it runs is checked, the warm-ups too: a build that fails ends the script with exit
# code 1 and a line naming that build, never a ratio. The "with" build must have placed the
# compressed model and its runtime.json in its output folder, the timed rebuilds must leave that
# model untouched (a no-op rebuild runs no engine), and the built app must load and run the model.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-7}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
  echo "bench-noop-rebuild: RUNS must be a positive whole number, not '$runs'" >&2
  exit 2
fi

sample="samples/DigitsApp"
model_name="digits-cnn"
# The same project without the package and its items, beside the sample so it sees the same
# nuget.config, Directory.*.props and git repository.
without="samples/.bench-without/DigitsApp"
log="$(mktemp)"
trap 'rm -rf samples/.bench-without "$log"' EXIT
rm -rf "$without"
mkdir -p "$without"
cp -r "$sample/." "$without/"
rm -rf "$without/bin" "$without/obj"
# Edited as XML, not by line: <CompressModel ... /> spans several lines.
if ! dotnet run build/bench-without-package.cs -- "$sample/DigitsApp.csproj" "$without/DigitsApp.csproj" > "$log" 2>&1; then
  cat "$log" >&2
  echo "bench-noop-rebuild: could not write the copy of $sample without ModelShrink.Build" >&2
  exit 1
fi

fail() {
  grep -E "error [A-Z]+[0-9]+:" "$log" | sed 's/^ *//' | sort -u >&2 || tail -20 "$log" >&2
  echo "bench-noop-rebuild: $1" >&2
  exit 1
}

# build NAME PROJECT [ARGS...]: one `dotnet build`, its output kept in $log; fails the script when it fails.
build() {
  local name="$1" project="$2"
  shift 2
  dotnet build "$project" -nologo -v:q "$@" > "$log" 2>&1 || fail "the $name build of $project failed (exit $?)"
}

# rebuild NAME PROJECT: one timed no-op rebuild (`--no-restore`); sets $rebuild_ms.
rebuild_ms=0
rebuild() {
  local start end
  start=$(date +%s%N)
  build "$1" "$2" --no-restore
  end=$(date +%s%N)
  rebuild_ms=$(( (end - start) / 1000000 ))
}
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The compressed model and its runtime.json in the output folder, smaller than the source model.
output_folder="$sample/bin/Debug/net10.0"
compressed="$output_folder/Models/$model_name.onnx"
check_output() {
  [ -s "$compressed" ] || fail "the with ModelShrink.Build build passed but wrote no $compressed"
  [ -s "$output_folder/Models/$model_name.runtime.json" ] || fail "the with ModelShrink.Build build passed but wrote no $output_folder/Models/$model_name.runtime.json"
  local source_bytes compressed_bytes
  source_bytes=$(stat -c %s "$sample/Models/$model_name.onnx")
  compressed_bytes=$(stat -c %s "$compressed")
  [ "$compressed_bytes" -lt "$source_bytes" ] || fail "$compressed ($compressed_bytes bytes) is not smaller than the source model ($source_bytes bytes)"
  compressed_stamp=$(stat -c %Y.%s "$compressed")
}

# Warm-ups (restore, first build), then the timed rebuilds of both apps in alternation, so that the
# machine's drifting load weighs on both alike.
build "with ModelShrink.Build warm-up" "$sample"
check_output
build "without ModelShrink.Build warm-up" "$without"
with_times=()
without_times=()
for i in $(seq "$runs"); do
  rebuild "with ModelShrink.Build rebuild $i" "$sample"
  with_times+=("$rebuild_ms")
  rebuild "without ModelShrink.Build rebuild $i" "$without"
  without_times+=("$rebuild_ms")
done
with_ms=$(median "${with_times[@]}")
without_ms=$(median "${without_times[@]}")

[ "$(stat -c %Y.%s "$compressed")" = "$compressed_stamp" ] || fail "the with ModelShrink.Build rebuilds rewrote $compressed: they were not no-op rebuilds"
[ ! -e "$without/bin/Debug/net10.0/Models/$model_name.runtime.json" ] || fail "the copy without ModelShrink.Build still compressed its model"
# The app loads the compressed model in ONNX Runtime and classifies the holdout set.
dotnet "$output_folder/DigitsApp.dll" > "$log" 2>&1 || { cat "$log" >&2; fail "the app built with ModelShrink.Build did not run its compressed model"; }
grep -q "^accuracy: " "$log" || { cat "$log" >&2; fail "the app built with ModelShrink.Build printed no accuracy"; }

echo "no-op rebuild, median of $runs: with ModelShrink.Build ${with_ms} ms, without ${without_ms} ms, ratio $(awk -v a="$with_ms" -v b="$without_ms" 'BEGIN { printf "%.2f", a / b }')"
