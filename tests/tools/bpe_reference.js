#!/usr/bin/env node
// The reference the byte-level BPE tests compare against: the npm vocabulary package's own
// JavaScript tokenizer (@lenml/tokenizers, a fork of transformers.js), placed by .ci/setup.sh.
//
//   node bpe_reference.js PACKAGE_DIR encode STRINGS.json   -> [[ids of string 0], ...]
//   node bpe_reference.js PACKAGE_DIR decode IDS.json       -> ["text of ids 0", ...]
//   node bpe_reference.js PACKAGE_DIR chat CONVERSATIONS.json -> [[ids of conversation 0], ...]
//     (each conversation a list of {role, content}: the package's own chat template rendered
//     with add_generation_prompt, then tokenized without special tokens added, as Hugging Face's
//     apply_chat_template does)
//
// PACKAGE_DIR is e.g. data/tokenizers/llama3 (its dist/main.js finds @lenml/tokenizers in
// data/tokenizers/node_modules). Strings are encoded without special tokens added (no BOS), so
// the ids are the text's alone; decoding skips special tokens and does no clean-up of spaces, as
// kvs::Tokenizer::decode does. Output is JSON on stdout.
"use strict";
const fs = require("fs");
const path = require("path");

const [packageDir, mode, inputPath] = process.argv.slice(2);
if (!packageDir || !["encode", "decode", "chat"].includes(mode) || !inputPath) {
  process.stderr.write("usage: bpe_reference.js PACKAGE_DIR encode|decode|chat INPUT.json\n");
  process.exit(2);
}
const pkg = require(path.resolve(packageDir, "dist", "main.js"));
const tokenizer = pkg.fromPreTrained();
const inputs = JSON.parse(fs.readFileSync(inputPath, "utf8"));
const encode = (s) => Array.from(tokenizer.encode(s, { add_special_tokens: false }));
const out =
  mode === "encode"
    ? inputs.map(encode)
    : mode === "chat"
      ? inputs.map((messages) =>
          encode(tokenizer.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }))
        )
      : inputs.map((ids) =>
          tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false })
        );
process.stdout.write(JSON.stringify(out) + "\n");
