#!/bin/bash
# Stages what the race needs on a machine without .NET (build/race/README.md) in one folder that fits a
# single transfer: the CPU engine published self-contained for linux-x64 and precompiled (ReadyToRun, from
# the CLI project for any publish with a runtime identifier; xz-compressed, about 40 MB),
# race.py, run-race.sh, latency_probe.py and the digits-cnn fixture.
# Usage: build/race/publish.sh [OUT=artifacts/race-carry]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/artifacts/race-carry}")
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
dotnet publish "$ROOT/src/ModelShrink.Cli/ModelShrink.Cli.csproj" -c Release -r linux-x64 --self-contained \
    -o "$STAGE/engine" -nologo -v:q
rm -f "$STAGE"/engine/*.pdb "$STAGE"/engine/*.xml   # symbols and API docs: not needed to run, 10 MB
rm -rf "$OUT"; mkdir -p "$OUT/fixtures"
tar -C "$STAGE" -cf - engine | xz -6 -T0 > "$OUT/engine.tar.xz"
cp "$ROOT/build/race/race.py" "$ROOT/build/race/run-race.sh" "$ROOT/build/race/latency_probe.py" "$OUT/"
cp -r "$ROOT/tests/fixtures/digits-cnn" "$OUT/fixtures/"
du -sh "$OUT"
