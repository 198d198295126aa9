#!/usr/bin/env bash
# Prefill/decode benchmark of KV Studio's LlamaModel on this machine, as a Markdown table on stdout.
#
#   tests/bench/run_benchmarks.sh [--quick] [--threads N] [--blas-threads N] [--breakdown]
#                                 [--llamacpp DIR] [--llama2c DIR] [--vocab FILE] [--rounds N]
#
# Builds kvs_bench_generate in ${BUILD_DIR:-<repo>/build} (configure it first, after
# `bash .ci/setup.sh`), measures the memory bandwidth, then runs the benchmark once per model in its
# own process (so peak RSS is that model's): stories260K (data/models) and a random-weight 110M
# checkpoint in llama2.c format, written once to ${KVS_BENCH_CACHE:-<build>/bench-cache} (~440 MB).
# Targets are informative: a MISS never fails the script; only build or run errors do.
# --llamacpp DIR: a llama.cpp CPU build (DIR/bin/llama-bench, DIR/bin/llama-convert-llama2c-to-ggml;
# see the README's Performance section) measured side by side on the same 110M checkpoint, which
# its converter turns into a float32 GGUF once (vocabulary: --vocab, default
# ../shared/models/tokenizer.bin, Llama 2's 32000 pieces in llama2.c format): --rounds (default 5)
# alternating rounds of KV Studio then llama.cpp, 2 threads each, medians; then the same with a
# random ~300M GQA checkpoint in bfloat16 (llama-quantize makes its BF16 GGUF).
# --llama2c DIR: a llama2.c checkout with DIR/run (`make run`) and DIR/runomp (`gcc -Ofast
# -fopenmp -march=native run.c -lm -o runomp`), decode side by side (tests/bench/
# llama2c_side_by_side.sh), --rounds alternating rounds, medians: stories260K on one thread (run),
# and the random 110M checkpoint on 2 threads (runomp, OMP_NUM_THREADS=2; vocabulary --vocab).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
export KVS_BENCH_CACHE="${KVS_BENCH_CACHE:-$build/bench-cache}"

reps=5
decode_steps=128
extra=()
breakdown=0
llamacpp=""
llama2c=""
vocab="$repo/../shared/models/tokenizer.bin"
rounds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) reps=2; decode_steps=32 ;;
    --threads|--blas-threads) extra+=("$1" "$2"); shift ;;
    --breakdown) breakdown=1 ;;
    --llamacpp) llamacpp="$2"; shift ;;
    --llama2c) llama2c="$2"; shift ;;
    --vocab) vocab="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    -h|--help) sed -n '2,/^[^#]/{/^#/p}' "$0"; exit 0 ;;
    *) echo "run_benchmarks.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -n "$llama2c" ]; then
  # shellcheck source=tests/bench/llama2c_side_by_side.sh
  . "$repo/tests/bench/llama2c_side_by_side.sh"
  llama2c_check "$llama2c"  # before the long benchmark, not after it
fi

[ -f "$build/CMakeCache.txt" ] || {
  echo "run_benchmarks.sh: $build is not a configured build dir; run" >&2
  echo "  bash .ci/setup.sh && cmake -S $repo -B $build -G Ninja" >&2
  exit 1
}
echo "building kvs_bench_generate in $build ..." >&2
cmake --build "$build" --target kvs_bench_generate kvs_bench_kernels -j "$(nproc)" >&2
built="$build/tests/bench/kvs_bench_generate"
[ -x "$built" ] || built="$(find "$build" -type f -name kvs_bench_generate -perm -u+x | head -n 1)"
if [ -z "$built" ] || [ ! -x "$built" ]; then
  echo "run_benchmarks.sh: kvs_bench_generate not found in $build" >&2
  exit 1
fi
# Run a private copy, so that a rebuild of the build dir during the run cannot swap it.
tmp="$(mktemp -d "${TMPDIR:-/tmp}/kvs-bench-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cp "$built" "$tmp/kvs_bench_generate"
bin="$tmp/kvs_bench_generate"

common=(--reps "$reps" --decode-steps "$decode_steps" "${extra[@]}")

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
machine="$("$bin" --machine --reps "$reps" "${extra[@]}")"
bandwidth="$(awk '$1 == "info" && $2 == "bandwidth_gbs" {print $3}' <<<"$machine")"
[ -n "$bandwidth" ] || { echo "run_benchmarks.sh: no bandwidth measured" >&2; exit 1; }

rows=""
notes=""
targets=""
for model in stories260K random110m; do
  echo "benchmarking $model ..." >&2
  out="$("$bin" --model "$model" --bandwidth-gbs "$bandwidth" "${common[@]}")"
  rows+="$(sed -n 's/^row //p' <<<"$out")"$'\n'
  notes+="$(sed -n 's/^note /- /p' <<<"$out")"$'\n'
  targets+="$(sed -n 's/^target /- /p' <<<"$out")"$'\n'
done

echo "# KV Studio generation benchmark"
echo
echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- Host: $(uname -n), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average at start $load_start, at end $(cut -d' ' -f1-3 /proc/loadavg)"
sed -n 's/^info \([A-Z]\)/- \1/p' <<<"$machine"
env_vars="$(env | grep -E '^(OMP_|GOMP_|OPENBLAS_|MKL_|GLIBC_TUNABLES=)' | sort | tr '\n' ' ' || true)"
echo "- Environment: ${env_vars:-no OMP_/GOMP_/OPENBLAS_/MKL_/GLIBC_TUNABLES variables set}"
echo "- Repetitions: $reps (medians), prompt 512 random tokens, $decode_steps decode steps${extra:+, options ${extra[*]}}"
echo
"$bin" --header | sed -n 's/^row //p'
printf '%s' "$rows"
echo
echo "Weights bytes/token = LlamaModel::weightBytes() (in the dtype loaded; the shared embedding/classifier"
echo "counted once). Bandwidth-bound tok/s = bandwidth / weights bytes per token. Prefill/decode"
echo "speed-up = prefill tok/s / decode tok/s."
echo
printf '%s' "$notes"
echo
echo "Targets (informative):"
echo
printf '%s' "$targets"

echo
echo "## One-token projections and batched matmuls (kvs_bench_kernels)"
echo
kernel_args=()
for ((i = 0; i < ${#extra[@]}; i += 2)); do
  [ "${extra[i]}" = "--threads" ] && kernel_args+=(--threads "${extra[i + 1]}")
done
"$build/tests/bench/kvs_bench_kernels" --reps "$reps" --bandwidth-gbs "$bandwidth" "${kernel_args[@]}" |
  grep -v '^one-token'

if [ -n "$llamacpp" ]; then
  # shellcheck source=tests/bench/llamacpp_side_by_side.sh
  . "$repo/tests/bench/llamacpp_side_by_side.sh"
  side_by_side "$llamacpp" "$vocab" "$rounds" "$bin" "$bandwidth" random110m f32
  side_by_side "$llamacpp" "$vocab" "$rounds" "$bin" "$bandwidth" random350m bf16
fi

if [ -n "$llama2c" ]; then
  llama2c_side_by_side "$llama2c" "$rounds" "$bin" "$bandwidth" "$vocab"
fi

if [ "$breakdown" -eq 1 ]; then
  echo
  echo "## Decode breakdown (110M shape)"
  echo
  "$bin" --breakdown "${common[@]}" | sed 's/^info //'
fi
