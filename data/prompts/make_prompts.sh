#!/usr/bin/env bash
# Regenerates tinystories_prompts.txt: 32 stories written by stories260K itself (sampled with
# kvstudio-cli, temperature 0.8, top-p 0.9, a fixed seed per opening), one per line, newlines
# joined with spaces, kept when they are 150 to 450 tokens long (BOS included).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cli="$repo/build/app/kvstudio-cli"
model="$repo/data/models/stories260K.bin"
openings=(
  "Once upon a time, there was a little girl named Lily."
  "Tom had a red ball."
  "One day, a small bird flew to the park."
  "Sam and his mom went to the store."
  "There was a big dog named Max."
  "Anna liked to draw pictures of the sun."
  "The cat was sleeping under the tree."
  "Ben found a shiny key in the garden."
  "Mia wanted to bake a cake for her dad."
  "A little boat sailed on the blue sea."
  "Lucy and Tim played in the snow."
  "The old man had a magic hat."
  "Once upon a time, there was a happy frog."
  "Jack was scared of the dark."
  "Sara saw a rainbow after the rain."
  "The toy car could not go fast."
  "Emma had a new friend at school."
  "A kind bear lived in the forest."
  "Once upon a time, a princess lost her crown."
  "Leo liked to jump in the puddles."
  "The little fish wanted to see the moon."
  "Grandma told a story about a dragon."
  "Once upon a time, there was a tiny ant."
  "Kate shared her apple with Ben."
  "The wind blew the kite into the sky."
  "Tim and Sue built a tower of blocks."
  "A brave mouse climbed the tall chair."
  "Once upon a time, a boy wanted a puppy."
  "The sun was hot and the children were thirsty."
  "Lily found a lost kitten in the rain."
  "Max the duck could not swim."
  "Once upon a time, there was a big red truck."
)
out="$repo/data/prompts/tinystories_prompts.txt"
{
  echo "# 32 TinyStories-style prompts written by stories260K (see README.md in this folder)."
  for i in "${!openings[@]}"; do
    for seed in $(seq $((i * 100)) $((i * 100 + 50))); do
      line=$("$cli" generate --model "$model" --prompt "${openings[$i]}" --steps 450 \
        --temperature 0.8 --top-p 0.9 --seed "$seed" --json 2>/dev/null |
        python3 -c 'import json,sys; j=json.load(sys.stdin); print(len(j["prompt_token_ids"])+len(j["generated_token_ids"]), " ".join((j["prompt"]+j["text"]).split()))')
      n=${line%% *}
      if [ "$n" -ge 150 ] && [ "$n" -le 450 ]; then
        echo "${line#* }"
        break
      fi
    done
  done
} >"$out"
echo "wrote $(grep -vc '^#' "$out") prompts to $out" >&2
