# Sourced by run_benchmarks.sh --llamacpp DIR: KV Studio and llama.cpp on the same random
# checkpoint, in alternating rounds (a busy machine slows both alike), 2 threads each, prefill of
# 512 tokens and 128 decode steps, medians. Prints a Markdown table.
#
#   side_by_side LLAMACPP_BUILD VOCAB ROUNDS KVS_BENCH_BINARY BANDWIDTH_GBS MODEL DTYPE
#
# MODEL: random110m (float32, MHA) or random350m (GQA); DTYPE: f32, or bf16 (llama-quantize turns
# the converted GGUF into BF16; KV Studio loads the same llama2.c file with --dtype bf16).

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

side_by_side() {
  local dir="$1" vocab="$2" rounds="$3" kvs="$4" bandwidth="$5" model="${6:-random110m}" dtype="${7:-f32}"
  local bench="$dir/bin/llama-bench" convert="$dir/bin/llama-convert-llama2c-to-ggml"
  local quantize="$dir/bin/llama-quantize"
  for tool in "$bench" "$convert" $([ "$dtype" = f32 ] || echo "$quantize"); do
    [ -x "$tool" ] || { echo "run_benchmarks.sh: $tool not found; build llama.cpp's llama-bench and llama-convert-llama2c-to-ggml in $dir (README, Performance)" >&2; exit 1; }
  done
  [ -f "$vocab" ] || { echo "run_benchmarks.sh: no vocabulary $vocab; give --vocab FILE (llama2.c tokenizer.bin of 32000 pieces)" >&2; exit 1; }
  local checkpoint="$KVS_BENCH_CACHE/$model-legacy.bin" gguf="$KVS_BENCH_CACHE/$model-f32.gguf"
  local kvs_dtype=() label="float32"
  [ -f "$checkpoint" ] || "$kvs" --model "$model" --bandwidth-gbs "$bandwidth" --reps 1 --decode-steps 1 >/dev/null
  if [ ! -f "$gguf" ] || [ "$gguf" -ot "$checkpoint" ]; then
    echo "converting $checkpoint to $gguf ..." >&2
    "$convert" --copy-vocab-from-model "$vocab" --llama2c-model "$checkpoint" \
      --llama2c-output-model "$gguf.part" >/dev/null 2>&1
    mv "$gguf.part" "$gguf"
  fi
  if [ "$dtype" = bf16 ]; then
    local bf16="$KVS_BENCH_CACHE/$model-bf16.gguf"
    if [ ! -f "$bf16" ] || [ "$bf16" -ot "$gguf" ]; then
      echo "quantizing $gguf to $bf16 ..." >&2
      "$quantize" "$gguf" "$bf16.part" BF16 >/dev/null 2>&1
      mv "$bf16.part" "$bf16"
    fi
    gguf="$bf16" kvs_dtype=(--dtype bf16) label="bfloat16"
  fi
  local kp=() kd=() kd16=() lp=() ld=() row out
  for r in $(seq 1 "$rounds"); do
    echo "side by side: round $r/$rounds ..." >&2
    row="$("$kvs" --model "$model" "${kvs_dtype[@]}" --bandwidth-gbs "$bandwidth" --reps 1 --decode-steps 128 --threads 2 | sed -n 's/^row //p')"
    kp+=("$(awk -F'|' '{gsub(/ /, "", $4); print $4}' <<<"$row")")
    kd+=("$(awk -F'|' '{gsub(/ /, "", $5); print $5}' <<<"$row")")
    if [ "$dtype" = f32 ]; then  # llama.cpp's default KV cache is float16: the same, for decode
      row="$("$kvs" --model "$model" --kv-dtype fp16 --bandwidth-gbs "$bandwidth" --reps 1 --decode-steps 128 --threads 2 | sed -n 's/^row //p')"
      kd16+=("$(awk -F'|' '{gsub(/ /, "", $5); print $5}' <<<"$row")")
    fi
    out="$("$bench" -m "$gguf" -p 512 -n 128 -t 2 -r 1 -o csv 2>/dev/null)"
    # CSV columns ..., n_prompt, n_gen, test_time, avg_ns, stddev_ns, avg_ts, stddev_ts.
    lp+=("$(awk -F, 'NR > 1 && $0 ~ /"512","0"/ {gsub(/"/, "", $(NF - 1)); printf "%.1f\n", $(NF - 1)}' <<<"$out")")
    ld+=("$(awk -F, 'NR > 1 && $0 ~ /"0","128"/ {gsub(/"/, "", $(NF - 1)); printf "%.1f\n", $(NF - 1)}' <<<"$out")")
    [ -n "${lp[-1]}" ] && [ -n "${ld[-1]}" ] || { echo "run_benchmarks.sh: llama-bench printed no result:" >&2; echo "$out" >&2; exit 1; }
  done
  local mkp mkd mlp mld
  mkp="$(printf '%s\n' "${kp[@]}" | median)"; mkd="$(printf '%s\n' "${kd[@]}" | median)"
  mlp="$(printf '%s\n' "${lp[@]}" | median)"; mld="$(printf '%s\n' "${ld[@]}" | median)"
  echo
  echo "## Side by side with llama.cpp ($model, $label, 2 threads, $rounds alternating rounds)"
  echo
  echo "| | prefill tok/s (512) | decode tok/s (128) |"
  echo "|---|---:|---:|"
  echo "| KV Studio | $mkp | $mkd |"
  echo "| llama.cpp $(git -C "$dir" describe --tags --always 2>/dev/null || echo '') | $mlp | $mld |"
  awk -v a="$mkp" -v b="$mlp" -v c="$mkd" -v d="$mld" 'BEGIN {printf "| KV Studio / llama.cpp | %.2fx | %.2fx |\n", a / b, c / d}'
  if [ "${#kd16[@]}" -gt 0 ]; then
    local mkd16
    mkd16="$(printf '%s\n' "${kd16[@]}" | median)"
    echo "| KV Studio with a float16 KV cache (\`--kv-dtype fp16\`, llama.cpp's default cache type) | | $mkd16 |"
    awk -v c="$mkd16" -v d="$mld" 'BEGIN {printf "| the same / llama.cpp | | %.2fx |\n", c / d}'
  fi
  echo
  echo "Every round: KV Studio ${kp[*]} / ${kd[*]}${kd16[*]:+ (float16 cache: ${kd16[*]})}; llama.cpp ${lp[*]} / ${ld[*]} (prefill / decode tok/s)."
}
