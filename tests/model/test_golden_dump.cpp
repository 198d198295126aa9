// Top-5 logits of positions 0-19 and key-cache values (after RoPE) of layers 0 and 4 equal the
// llama2.c dump within 1e-4 relative, both with one batched prefill and token by token.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <sstream>

#include "cache/kv_cache.h"
#include "stories_fixture.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class GoldenDump : public Stories {};

struct Dump {
  std::vector<int> inputs;                               // input token at each position
  std::vector<std::vector<std::pair<int, float>>> top5;  // per position
  struct Key {
    int layer, pos, head;
    std::vector<float> values;
  };
  std::vector<Key> keys;
};

Dump readDump() {
  std::istringstream in(readFile(goldenPath("dump_once_upon_a_time_top5_kcache.txt")));
  Dump d;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string tag, word;
    ls >> tag;
    if (tag == "pos") {
      int pos, input;
      ls >> pos >> word >> input >> word;
      d.inputs.push_back(input);
      d.top5.emplace_back();
      for (std::string entry; ls >> entry;) {
        const auto colon = entry.find(':');
        d.top5.back().push_back(
            {std::stoi(entry.substr(0, colon)), std::stof(entry.substr(colon + 1))});
      }
    } else if (tag == "k") {
      Dump::Key k;
      ls >> word >> k.layer >> word >> k.pos >> word >> k.head;
      for (float v; ls >> v;) k.values.push_back(v);
      d.keys.push_back(k);
    }
  }
  return d;
}

void expectMatchesDump(const at::Tensor& logits /*[20, V]*/, const KvCache& cache, const Dump& d) {
  for (size_t pos = 0; pos < d.top5.size(); ++pos) {
    SCOPED_TRACE("position " + std::to_string(pos));
    const at::Tensor row = logits[pos];
    EXPECT_EQ(row.argmax().item<int64_t>(), d.top5[pos][0].first);
    for (const auto& [id, value] : d.top5[pos]) {
      EXPECT_NEAR(row[id].item<float>(), value, 1e-4 * std::abs(value) + 1e-6) << "id " << id;
    }
  }
  for (const auto& k : d.keys) {
    const at::Tensor actual = cache.keys(k.layer)[k.head][k.pos];  // [D]
    for (size_t i = 0; i < k.values.size(); ++i) {
      EXPECT_NEAR(actual[i].item<float>(), k.values[i], 1e-4 * std::abs(k.values[i]) + 1e-6)
          << "layer " << k.layer << " pos " << k.pos << " head " << k.head << " dim " << i;
    }
  }
}

TEST_F(GoldenDump, DumpHasTheExpectedContent) {
  const Dump d = readDump();
  ASSERT_EQ(d.top5.size(), 20u);
  ASSERT_EQ(d.keys.size(), 64u);  // 2 layers x 8 positions x 4 kv heads
  EXPECT_EQ(std::vector<int>(d.inputs.begin(), d.inputs.begin() + 5),
            tokenizer().encode("Once upon a time"));
}

TEST_F(GoldenDump, BatchedPrefillMatchesLlama2cDump) {
  const Dump d = readDump();
  KvCache cache = model().makeCache();
  const at::Tensor logits = model().forward(d.inputs, cache, LogitsMode::kAll);
  expectMatchesDump(logits, cache, d);
}

TEST_F(GoldenDump, TokenByTokenMatchesLlama2cDump) {
  const Dump d = readDump();
  KvCache cache = model().makeCache();
  std::vector<at::Tensor> rows;
  for (int token : d.inputs) rows.push_back(model().forward({token}, cache).unsqueeze(0));
  expectMatchesDump(at::cat(rows), cache, d);
}

}  // namespace
}  // namespace kvs::test
