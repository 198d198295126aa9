#!/usr/bin/env bash
# The whole command of one run on the lent GPU machine (issue 18), from the repository root, with
# the device kit (tests/gpu/make_device_kit.sh) carried along in build-devkit/:
#
#   bash tests/gpu/device_check.sh
#
# Unpacks the kit, configures against the machine's PyTorch LibTorch (GUI off, the kit's static
# archives), builds the gpu tests and the device benchmark with every core, runs `ctest -L gpu`,
# the speed measurements (random-weight Llama-2-7B-shaped bf16 model), then builds kvstudio-cli
# and runs it once. Each phase has its own time limit inside a total budget (TOTAL_S, 420 s), so
# the run stops itself well inside 8 minutes; the last lines say how far it got. Logs and
# results.json go to $OUT when set (else build-device-out/).
#
# Knobs (environment): TORCH_PREFIX (default: python3's torch.utils.cmake_prefix_path),
# KIT (build-devkit), KIT_UNPACKED (BUILD_DIR/kit), BUILD_DIR (build-device), DEVICE (cuda),
# SHAPE (7b), DTYPE (bf16), PROMPT_TOKENS (3500), DECODE_STEPS (64), TOTAL_S (420), JOBS (nproc),
# CXX_STD (17; 20 for PyTorch 2.12+, and again after a build that stops on the headers' C++20
# #error). The CPU rehearsal on Debian (KIT_UNPACKED as the build there was configured):
#   TORCH_PREFIX=/usr/lib/x86_64-linux-gnu/cmake/Torch BUILD_DIR=build-devkit-rehearsal \
#   DEVICE=cpu SHAPE=tiny PROMPT_TOKENS=256 DECODE_STEPS=8 TOTAL_S=1800 \
#   flock /tmp/kvs-build.lock bash tests/gpu/device_check.sh
set -uo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo" || exit 1
start=$(date +%s)
total=${TOTAL_S:-420}
kit_dir="$repo/${KIT:-build-devkit}"
build="$repo/${BUILD_DIR:-build-device}"
# Unpacked beside the build, not in build-devkit/, so that folder stays small enough to carry.
kit="$repo/${KIT_UNPACKED:-${BUILD_DIR:-build-device}/kit}"
out="${OUT:-$repo/build-device-out}"
device=${DEVICE:-cuda} shape=${SHAPE:-7b} dtype=${DTYPE:-bf16}
jobs=${JOBS:-$(nproc)}
export repo out kit_dir kit build device shape dtype jobs
mkdir -p "$out"
exec > >(tee "$out/device_check.log") 2>&1

phases=()  # "name status seconds", in order
elapsed() { echo $(($(date +%s) - start)); }
say() { printf '[device-check %4ss] %s\n' "$(elapsed)" "$*"; }

# phase NAME CAP MIN COMMAND...: runs under min(CAP, what is left of the budget but 15 s);
# skipped when less than MIN seconds would be left. Output goes to $out/NAME.log and the screen.
phase() {
  local name=$1 cap=$2 min=$3
  shift 3
  local left=$((total - $(elapsed) - 15)) limit t0 rc
  limit=$((cap < left ? cap : left))
  if [ "$limit" -lt "$min" ]; then
    say "$name: skipped, ${left}s left of the budget"
    phases+=("$name skipped 0")
    return 1
  fi
  say "$name (limit ${limit}s)"
  t0=$(date +%s)
  # bash -c: a phase may be one of the functions below (exported), which timeout cannot run.
  timeout --kill-after=5 "$limit" bash -c '"$@"' _ "$@" 2>&1 | tee "$out/$name.log" | tail -n 25
  rc=${PIPESTATUS[0]}
  local status=ok
  [ "$rc" -eq 0 ] || status="failed(rc=$rc)"
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && status="timeout(${limit}s)"
  phases+=("$name $status $(($(date +%s) - t0))")
  say "$name: $status in $(($(date +%s) - t0))s"
  [ "$rc" -eq 0 ]
}

finish() {
  say "how far it got:"
  for p in "${phases[@]}"; do printf '    %s\n' "$p"; done
  python3 - "$out" "$start" "${phases[@]}" <<'PY' || say "results.json not written (no python3?)"
import json, os, sys, time
out, start, rows = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
res = {"phases": [{"name": n, "status": st, "seconds": int(sec)}
                  for n, st, sec in (r.split(" ") for r in rows)],
       "total_s": int(time.time()) - start}
for key, name in (("environment", "environment.json"), ("bench", "bench.json")):
    try:
        res[key] = json.load(open(os.path.join(out, name)))
    except (OSError, ValueError):
        pass
try:
    tail = open(os.path.join(out, "ctest.log")).read().splitlines()
    res["ctest"] = [l for l in tail if "tests passed" in l or "(Failed)" in l or "Skipped" in l]
except OSError:
    pass
json.dump(res, open(os.path.join(out, "results.json"), "w"), indent=2)
print(json.dumps(res, indent=2))
PY
}
trap finish EXIT

# ------------------------------------------------------------------ the machine
environment() {
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
  g++ --version | head -1
  cmake --version | head -1
  ninja --version 2>/dev/null || echo "no ninja"
  ldd --version | head -1
  python3 - "$out/environment.json" <<'PY'
import json, os, subprocess, sys
env = {"nproc": os.cpu_count()}
try:
    env["gpu"] = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                capture_output=True, text=True).stdout.strip()
except OSError:
    env["gpu"] = None
try:
    import torch
    env.update(torch=torch.__version__, torch_cuda=torch.version.cuda,
               cxx11_abi=bool(torch._C._GLIBCXX_USE_CXX11_ABI),
               cmake_prefix=torch.utils.cmake_prefix_path, cuda_available=torch.cuda.is_available())
except Exception as e:  # the rehearsal's Debian machine has no Python torch
    env["torch"] = "not importable: %s" % e
json.dump(env, open(sys.argv[1], "w"), indent=2)
print(json.dumps(env))
PY
}
export -f environment
phase environment 20 5 environment

torch_prefix="${TORCH_PREFIX:-$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)' 2>/dev/null)}"
[ -n "$torch_prefix" ] || { say "no LibTorch: set TORCH_PREFIX or install PyTorch"; exit 1; }
torch_minor=$(python3 -c 'import torch;print(torch.__version__.split(".")[1])' 2>/dev/null || echo 0)
torch_major=$(python3 -c 'import torch;print(torch.__version__.split(".")[0])' 2>/dev/null || echo 1)
export torch_prefix cxx_std=${CXX_STD:-17}
if [ -z "${CXX_STD:-}" ] && { [ "$torch_major" -ge 3 ] || { [ "$torch_major" -eq 2 ] && [ "$torch_minor" -ge 12 ]; }; }; then
  cxx_std=20
fi

# ------------------------------------------------------------------ the kit
unpack() {
  [ -f "$kit_dir/kit.tar.xz" ] || { echo "no $kit_dir/kit.tar.xz: run tests/gpu/make_device_kit.sh"; return 1; }
  local stamp="$kit/.from" id
  id=$(cksum <"$kit_dir/kit.tar.xz")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ]; then echo "already unpacked"; return 0; fi
  rm -rf "$kit" && mkdir -p "$kit"
  # Python's tarfile where tar has no xz.
  tar -C "$kit" -xJf "$kit_dir/kit.tar.xz" ||
    python3 -m tarfile -e "$kit_dir/kit.tar.xz" "$kit" || return 1
  echo "$id" >"$stamp"
  du -sh "$kit"
  (cd "$kit" && sha256sum --quiet -c SHA256SUMS) && echo "checksums ok"
}
export -f unpack
phase unpack 60 10 unpack || exit 1

# ------------------------------------------------------------------ configure and build
configure() {
  local generator=() cuda=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  # PyTorch's CMake config looks for the CUDA toolkit; help it where nvcc is off the PATH.
  [ -x /usr/local/cuda/bin/nvcc ] && cuda=(-DCUDAToolkit_ROOT=/usr/local/cuda)
  cmake -S "$repo" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DKVS_BUILD_GUI=OFF \
    -DKVS_DEPS_KIT="$kit" -DCMAKE_PREFIX_PATH="$torch_prefix" \
    -DCMAKE_CXX_STANDARD="$cxx_std" -DCMAKE_EXE_LINKER_FLAGS=-Wl,--no-as-needed "${cuda[@]}" || return 1
  # --no-as-needed above: nothing calls libtorch_cuda.so directly, yet loading it is what
  # registers CUDA with ATen; a linker that drops unused libraries (Ubuntu's default) would hide it.
  # The kit's archives use the cxx11 std::string ABI; a LibTorch without it cannot link them.
  local flags
  flags=$(grep -o "_GLIBCXX_USE_CXX11_ABI=[01]" "$build/compile_commands.json" 2>/dev/null | sort -u)
  echo "LibTorch asks for: ${flags:-no ABI flag (the compiler default, cxx11)}; C++$cxx_std"
  if grep -q "_GLIBCXX_USE_CXX11_ABI=0" <<<"$flags"; then
    echo "this LibTorch uses the pre-cxx11 ABI: the kit (g++ 12, cxx11 ABI) cannot link with it"
    return 1
  fi
}
export -f configure
phase configure 90 20 configure || exit 1

build_targets() { cmake --build "$build" -j "$jobs" --target "$@"; }
export -f build_targets
# Newer PyTorch headers stop with "#error C++20 or later ... is required": configure again in C++20.
if ! phase build 330 60 build_targets kvs_gpu_tests kvs_bench_device; then
  grep -q "C++20" "$out/build.log" || exit 1
  cxx_std=20
  phase configure-cxx20 60 20 configure && phase build-cxx20 300 60 build_targets kvs_gpu_tests \
    kvs_bench_device || exit 1
fi

# The link line and the loaded libraries show that the kit's archives, not a system's, were used.
linked() {
  local cmd exe="$build/tests/gpu/kvs_gpu_tests"
  cmd=$(ninja -C "$build" -t commands kvs_gpu_tests 2>/dev/null | tail -1)
  echo "$cmd" >"$out/link_kvs_gpu_tests.txt"
  echo "kit archives on the link line of kvs_gpu_tests:"
  grep -o "$kit/lib/[a-z0-9_+-]*\.a" <<<"$cmd" | sort -u | sed 's/^/    /'
  echo "its own shared libraries (DT_NEEDED):"
  readelf -d "$exe" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/    \1/p'
  if readelf -d "$exe" | grep -qE "hdf5|icu|pcre2|libcrypto|sentencepiece|gtest|libprotobuf-lite"; then
    echo "a system copy of a kit library is linked"
    return 1
  fi
}
export -f linked
phase linked 20 5 linked

# ------------------------------------------------------------------ correctness
# On the GPU machine a skipped test means the tests did not see CUDA (e.g. libtorch_cuda.so
# dropped by --as-needed): a failure there. A CPU rehearsal runs them with the CPU in CUDA's place.
gpu_tests() {
  [ "$device" = cpu ] && export KVS_GPU_TEST_DEVICE=cpu
  ctest --test-dir "$build" -L gpu --output-on-failure --timeout 80 -V >"$out/ctest-output.log" 2>&1
  local rc=$?
  cat "$out/ctest-output.log"
  [ "$rc" -eq 0 ] || return 1
  if [ "$device" = cuda ] && grep -q "\[  SKIPPED \]" "$out/ctest-output.log"; then
    echo "gpu tests skipped on a CUDA run: LibTorch's CUDA is not visible to them"
    return 1
  fi
}
export -f gpu_tests
phase ctest 90 20 gpu_tests

# ------------------------------------------------------------------ speed
bench() {
  "$build/tests/gpu/kvs_bench_device" --shape "$shape" --device "$device" --dtype "$dtype" \
    --prompt-tokens "${PROMPT_TOKENS:-3500}" --decode-steps "${DECODE_STEPS:-64}" \
    --methods kvmerger,h2o --dir "${BENCH_DIR:-$build}" --json "$out/bench.json"
}
export -f bench
phase bench 200 30 bench

# ------------------------------------------------------------------ the command-line tool
phase build-cli 200 30 build_targets kvstudio-cli &&
  phase cli 30 5 "$build/app/kvstudio-cli" generate --model "$kit/models/stories260K.bin" \
    --tokenizer "$kit/models/tok512.model" --device "$device" --prompt "Once upon a time" \
    --steps 32 --temperature 0 --method kvmerger --budget 0.5 --json
exit 0
