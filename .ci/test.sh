#!/usr/bin/env bash
# Sets up if needed, builds, and runs every test (labels: unit, model, gui, gpu).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KVS_BUILD_DIR:-$repo/build}"

bash "$repo/.ci/build.sh"
export QT_QPA_PLATFORM=offscreen
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600 "$@"
