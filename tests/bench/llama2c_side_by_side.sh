# shellcheck shell=bash
# Sourced by run_benchmarks.sh --llama2c DIR: KV Studio's decode and llama2.c's run.c on the same
# checkpoints, in alternating rounds (a busy machine slows both alike), medians and min-max. Prints
# a Markdown table.
#
#   llama2c_check LLAMA2C_DIR
#   llama2c_side_by_side LLAMA2C_DIR ROUNDS KVS_BENCH_BINARY BANDWIDTH_GBS [VOCAB]
#
# LLAMA2C_DIR: a checkout of https://github.com/karpathy/llama2.c with two binaries built in it:
#   make run                                                     (DIR/run: -O3, one thread: the
#                                                                 Makefile's default build)
#   gcc -Ofast -fopenmp -march=native run.c -lm -o runomp        (DIR/runomp: `make runomp`'s flags)
# (`make runfast` writes an -Ofast `run` instead, about twice as fast on stories260K as -O3 here;
# the comparison the performance issue asks for is with `make run`.)
# Two comparisons, decode only (llama2.c has no batched prefill: it feeds a prompt one token at a
# time through the same forward as decode):
# - stories260K (the file kvs_bench_generate loads, with its tok512.bin) on one thread: llama2.c's
#   `run` against kvs_bench_generate --threads 1. The issue's target: KV Studio >= 2x llama2.c.
# - the random 110M float32 checkpoint kvs_bench_generate writes in llama2.c's legacy format
#   ($KVS_BENCH_CACHE/random110m-legacy.bin), vocabulary VOCAB (default ../shared/models/
#   tokenizer.bin, Llama 2's 32000 pieces): `runomp` at OMP_NUM_THREADS=2 against --threads 2.
# Both decode positions 1..N greedily after the BOS token at position 0: llama2.c with an empty
# prompt, temperature 0, seed 42 and -n N+1 (run.c starts its clock after the first forward and
# reports (pos-1)/elapsed as "achieved tok/s"); KV Studio with --prompt-tokens 1 --decode-steps N.

llama2c_median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
llama2c_range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {print lo "-" hi}'; }

# Exits with a message unless DIR holds llama2.c's run and runomp binaries.
llama2c_check() {
  local dir="$1" tool
  for tool in run runomp; do
    [ -x "$dir/$tool" ] && continue
    {
      echo "run_benchmarks.sh: $dir/$tool not found; build llama2.c's binaries in $dir:"
      echo "  git clone https://github.com/karpathy/llama2.c $dir && cd $dir"
      echo "  make run                                                # run: -O3, one thread"
      echo "  gcc -Ofast -fopenmp -march=native run.c -lm -o runomp   # runomp: OpenMP"
    } >&2
    exit 1
  done
}

# Finds stories260K.bin next to tok512.bin: the KV Studio models dir first (where kvs_bench_generate
# reads stories260K, KVS_MODELS_DIR, default <repo>/data/models), then ../shared/models.
llama2c_models_dir() {
  local repo d
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  for d in ${KVS_MODELS_DIR:+"$KVS_MODELS_DIR"} "$repo/data/models" "$repo/../shared/models"; do
    [ -f "$d/stories260K.bin" ] && [ -f "$d/tok512.bin" ] && { (cd "$d" && pwd); return 0; }
  done
  echo "run_benchmarks.sh: no stories260K.bin with tok512.bin in data/models or ../shared/models (bash .ci/setup.sh)" >&2
  exit 1
}

# One llama2.c run; prints its "achieved tok/s" figure.
llama2c_tok_s() {
  local out tps
  out="$("$@" 2>&1 >/dev/null)" || { echo "run_benchmarks.sh: llama2.c failed: $*" >&2; echo "$out" >&2; exit 1; }
  tps="$(sed -n 's/^.*achieved tok\/s: \([0-9.]*\).*$/\1/p' <<<"$out" | tail -n 1)"
  [ -n "$tps" ] || { echo "run_benchmarks.sh: llama2.c printed no 'achieved tok/s': $*" >&2; echo "$out" >&2; exit 1; }
  printf '%.1f\n' "$tps"
}

# One kvs_bench_generate rep; prints its decode tok/s (column 5 of its row line).
llama2c_kvs_tok_s() {
  local row
  row="$("$@" | sed -n 's/^row //p')"
  [ -n "$row" ] || { echo "run_benchmarks.sh: kvs_bench_generate printed no row: $*" >&2; exit 1; }
  awk -F'|' '{gsub(/ /, "", $5); print $5}' <<<"$row"
}

llama2c_side_by_side() {
  local dir="$1" rounds="$2" kvs="$3" bandwidth="$4"
  local repo vocab models cache checkpoint
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  vocab="${5:-$repo/../shared/models/tokenizer.bin}"
  llama2c_check "$dir"
  [ -f "$vocab" ] || { echo "run_benchmarks.sh: no vocabulary $vocab; give --vocab FILE (llama2.c tokenizer.bin of 32000 pieces)" >&2; exit 1; }
  models="$(llama2c_models_dir)" || exit 1
  cache="${KVS_BENCH_CACHE:-${TMPDIR:-/tmp}/kvstudio-bench}"
  checkpoint="$cache/random110m-legacy.bin"
  local small=256 large=128  # decode steps: stories260K, random 110M
  local kvs_common=(--bandwidth-gbs "$bandwidth" --cache-dir "$cache" --reps 1 --prompt-tokens 1)
  [ -f "$checkpoint" ] || "$kvs" --model random110m "${kvs_common[@]}" --decode-steps 1 >/dev/null || exit 1
  local ks=() l2s=() kl=() ll=() r
  for r in $(seq 1 "$rounds"); do
    echo "llama2.c side by side: round $r/$rounds ..." >&2
    ks+=("$(llama2c_kvs_tok_s "$kvs" --model "$models/stories260K.bin" "${kvs_common[@]}" --decode-steps "$small" --threads 1)") || exit 1
    l2s+=("$(llama2c_tok_s "$dir/run" "$models/stories260K.bin" -z "$models/tok512.bin" -t 0 -s 42 -n $((small + 1)))") || exit 1
    kl+=("$(llama2c_kvs_tok_s "$kvs" --model random110m "${kvs_common[@]}" --decode-steps "$large" --threads 2)") || exit 1
    ll+=("$(llama2c_tok_s env OMP_NUM_THREADS=2 "$dir/runomp" "$checkpoint" -z "$vocab" -t 0 -s 42 -n $((large + 1)))") || exit 1
  done
  local mks mls mkl mll
  mks="$(printf '%s\n' "${ks[@]}" | llama2c_median)"; mls="$(printf '%s\n' "${l2s[@]}" | llama2c_median)"
  mkl="$(printf '%s\n' "${kl[@]}" | llama2c_median)"; mll="$(printf '%s\n' "${ll[@]}" | llama2c_median)"
  local commit
  commit="$(git -C "$dir" rev-parse --short HEAD 2>/dev/null || echo 'commit unknown')"
  echo
  echo "## Side by side with llama2.c ($commit; decode only, $rounds alternating rounds)"
  echo
  echo "| model, threads | KV Studio decode tok/s | llama2.c decode tok/s | KV Studio / llama2.c |"
  echo "|---|---:|---:|---:|"
  echo "| stories260K, 1 thread (llama2.c \`run\`), $small steps | $mks ($(printf '%s\n' "${ks[@]}" | llama2c_range)) | $mls ($(printf '%s\n' "${l2s[@]}" | llama2c_range)) | $(awk -v a="$mks" -v b="$mls" 'BEGIN {printf "%.2fx", a / b}') |"
  echo "| random 110M float32, 2 threads (\`runomp\`, OMP_NUM_THREADS=2), $large steps | $mkl ($(printf '%s\n' "${kl[@]}" | llama2c_range)) | $mll ($(printf '%s\n' "${ll[@]}" | llama2c_range)) | $(awk -v a="$mkl" -v b="$mll" 'BEGIN {printf "%.2fx", a / b}') |"
  echo
  echo "Medians (min-max) of $rounds rounds, each KV Studio then llama2.c, one process each. Both decode"
  echo "positions 1..N greedily after BOS at position 0. llama2.c: empty prompt, -t 0 -s 42 -n N+1; run.c"
  echo "starts its clock after the first forward (BOS), so it times N forwards, each with the argmax, the"
  echo "decoding of the piece and a printf+fflush to stdout (/dev/null here), on a millisecond clock"
  awk -v n="$small" -v t="$mls" 'BEGIN {ms = n * 1000 / t; printf "(its stories260K run takes ~%.0f ms, so that figure moves in steps of ~%.0f%%). KV Studio:\n", ms, 100 / ms}'
  echo "kvs_bench_generate --prompt-tokens 1 --decode-steps N --reps 1 after its 8-step warm-up, greedy"
  echo "argmax included (a 1-token prefill stands for llama2.c's untimed BOS forward)."
  echo "llama2.c has no batched prefill (it runs a prompt token by token), so only decode is compared."
  echo
  echo "Every round (tok/s): stories260K KV Studio ${ks[*]}, llama2.c ${l2s[*]}; random 110M KV Studio ${kl[*]}, llama2.c ${ll[*]}."
  echo
  awk -v a="$mks" -v b="$mls" 'BEGIN {printf "Target (informative): %s stories260K decode, KV Studio >= 2x llama2.c single-thread run: %.2fx\n", (a >= 2 * b ? "PASS" : "MISS"), a / b}'
}
