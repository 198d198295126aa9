#!/usr/bin/env bash
# Sets up if needed, builds, and starts KV Studio on the default model (stories260K).
# Without a display it runs the same job headless: a generation with kvstudio-cli.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KVS_BUILD_DIR:-$repo/build}"
model="$repo/data/models/stories260K.bin"

bash "$repo/.ci/build.sh"
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && [ -x "$build/app/kvstudio" ]; then
  exec "$build/app/kvstudio" "$model" "$@"
fi
echo "[start] no display: running the default job with kvstudio-cli instead of the GUI" >&2
"$build/app/kvstudio-cli" info --model "$model"
exec "$build/app/kvstudio-cli" generate --model "$model" --prompt "Once upon a time" \
  --steps 256 --temperature 0 "$@"
