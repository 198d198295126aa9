#!/usr/bin/env node
// The reference the byte-level BPE tests compare against: the npm vocabulary package's own
// JavaScript tokenizer (@lenml/tokenizers, a fork of transformers.js), placed by .ci/setup.sh.
//
//   node bpe_reference.js PACKAGE_DIR encode STRINGS.json   -> [[ids of string 0], ...]
//   node bpe_reference.js PACKAGE_DIR decode IDS.json       -> ["text of ids 0", ...]
//
// PACKAGE_DIR is e.g. data/tokenizers/llama3 (its dist/main.js finds @lenml/tokenizers in
// data/tokenizers/node_modules). Strings are encoded without special tokens added (no BOS), so
// the ids are the text's alone; decoding skips special tokens and does no clean-up of spaces, as
// kvs::Tokenizer::decode does. Output is JSON on stdout.
"use strict";
const fs = require("fs");
const path = require("path");

const [packageDir, mode, inputPath] = process.argv.slice(2);
if (!packageDir || !["encode", "decode"].includes(mode) || !inputPath) {
  process.stderr.write("usage: bpe_reference.js PACKAGE_DIR encode|decode INPUT.json\n");
  process.exit(2);
}
const pkg = require(path.resolve(packageDir, "dist", "main.js"));
const tokenizer = pkg.fromPreTrained();
const inputs = JSON.parse(fs.readFileSync(inputPath, "utf8"));
const out =
  mode === "encode"
    ? inputs.map((s) => Array.from(tokenizer.encode(s, { add_special_tokens: false })))
    : inputs.map((ids) =>
        tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false })
      );
process.stdout.write(JSON.stringify(out) + "\n");
