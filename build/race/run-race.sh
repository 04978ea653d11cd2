#!/bin/bash
# On the race machine, from the folder publish.sh staged: unpacks the engine to /tmp/race/engine (once
# per machine) and runs race.py with it; arguments go to race.py (e.g. --models matmul400 --rounds 3).
# Results: race-results.json and race-results.md in $OUT (or /tmp/race-out).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x /tmp/race/engine/modelshrink ]; then
    mkdir -p /tmp/race && xz -dc "$HERE/engine.tar.xz" | tar -C /tmp/race -xf -
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 PYTHONUNBUFFERED=1
exec python3 "$HERE/race.py" --cli /tmp/race/engine/modelshrink --fixtures "$HERE/fixtures" --work /tmp/race/work "$@"
