#!/usr/bin/env bash
# Sets up the machine if needed (.ci/setup.sh) and builds everything into build/ (or $KVS_BUILD_DIR).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KVS_BUILD_DIR:-$repo/build}"

bash "$repo/.ci/setup.sh"
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DKVS_SENTENCEPIECE_ROOT="${KVS_DEPS_PREFIX:-/opt/kvstudio}/sentencepiece-0.1.97" ${KVS_CMAKE_ARGS:-}
fi
cmake --build "$build" -j "$(nproc)"
