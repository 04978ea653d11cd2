#!/usr/bin/env bash
# Builds the ModelShrink.Build, ModelShrink.Runtime and ModelShrink.Cli (the modelshrink .NET tool)
# packages into artifacts/packages and runs the
# sample app, whose `dotnet build` compresses its model through the package. Each run packs a fresh
# prerelease version, so the NuGet cache never serves a stale copy of the package.
# MODELSHRINK_PACK_CONFIGURATION (default Release) names the configuration the packages are built in:
# the tests pack in their own (E2E), so that they never rewrite binaries other test assemblies run.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration="${MODELSHRINK_PACK_CONFIGURATION:-Release}"

version="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"
echo "packing ModelShrink.Build, ModelShrink.Runtime and ModelShrink.Cli $version"
dotnet pack src/ModelShrink.Build.Tasks -c "$configuration" -p:Version="$version" -nologo -v:q
dotnet pack src/ModelShrink.Runtime -c "$configuration" -p:Version="$version" -nologo -v:q
dotnet pack src/ModelShrink.Cli -c "$configuration" -p:Version="$version" -nologo -v:q

echo "building and running samples/DigitsApp"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! dotnet build samples/DigitsApp -c Release -p:ModelShrinkVersion="$version" -nologo -v:n -clp:NoSummary > "$log" 2>&1; then
  grep -E ": error |: warning " "$log" | sort -u || tail -20 "$log"
  echo "the sample's build failed" >&2
  exit 1
fi
grep -E "ModelShrink: |: warning " "$log" | sed 's/^ *//' | sort -u || true
dotnet run --project samples/DigitsApp -c Release --no-build -p:ModelShrinkVersion="$version"
