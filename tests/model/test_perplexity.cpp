// Perplexity under a fixed budget (core/eval/perplexity.h) on stories260K: the full cache's
// curve against a naive reference (one forward pass over the whole text, log-softmax by hand),
// every curve where it should start, caches held at their budget while reading, the means, and
// the CLI's table, CSV and refusals.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "cache/kv_cache.h"
#include "cli_runner.h"
#include "eval/perplexity.h"
#include "longbench_fixture.h"
#include "stories_fixture.h"
#include "util/error.h"

namespace kvs::test {
namespace {

class Perplexity : public Stories {
 protected:
  // Two stories, 400 tokens of them.
  static std::vector<int> text() {
    const auto stories = tinyStories();
    std::vector<int> ids = tokenizer().encode(stories[0] + " " + stories[1], true);
    ids.resize(400);
    return ids;
  }
  static CompressionParams at(const std::string& method, int slots) {
    CompressionParams p;
    p.method = method;
    p.budgetTokens = slots;
    return p;
  }
};

TEST_F(Perplexity, TheFullCacheReadsTheTextAsOneForwardPassDoes) {
  const std::vector<int> ids = text();
  const auto curves = eval::perplexityUnderBudget(model(), ids, {at("streaming", 48)});
  ASSERT_EQ(curves.size(), 2u);
  const eval::PerplexityCurve& full = curves[0];
  EXPECT_EQ(full.setting, "full");
  EXPECT_EQ(full.firstPosition, 48);  // from the smallest budget
  ASSERT_EQ(full.nll.size(), ids.size() - 48);
  // Naive reference: logits of every position at once, NLL of the next token by hand.
  KvCache cache = model().makeCache();
  const at::Tensor logits = model().forward(ids, cache, LogitsMode::kAll).to(at::kDouble);
  for (size_t t = 48; t < ids.size(); ++t) {
    const at::Tensor row = logits[t - 1];
    const double logZ =
        std::log(at::exp(row - row.max()).sum().item<double>()) + row.max().item<double>();
    const double nll = logZ - row[ids[t]].item<double>();
    EXPECT_NEAR(full.nll[t - 48], nll, 2e-4) << "position " << t;
  }
}

TEST_F(Perplexity, EachCurveStartsAtItsBudgetAndItsCacheStaysThere) {
  const std::vector<int> ids = text();
  const int N = static_cast<int>(ids.size());
  const auto curves = eval::perplexityUnderBudget(
      model(), ids, {at("streaming", 32), at("h2o", 64), at("kvmerger", 128)});
  ASSERT_EQ(curves.size(), 4u);
  const int budgets[] = {N, 32, 64, 128};
  for (size_t i = 0; i < curves.size(); ++i) {
    const eval::PerplexityCurve& c = curves[i];
    EXPECT_EQ(c.budget, budgets[i]);
    EXPECT_EQ(c.firstPosition, i == 0 ? 32 : budgets[i]);
    EXPECT_EQ(int(c.nll.size()), N - c.firstPosition);
    double all = 0, common = 0;
    for (size_t k = 0; k < c.nll.size(); ++k) {
      all += c.nll[k];
      if (c.firstPosition + int(k) >= 128) common += c.nll[k];
    }
    EXPECT_NEAR(c.meanNll, all / c.nll.size(), 1e-12);
    EXPECT_NEAR(c.meanNllCommon, common / (N - 128), 1e-12);
    if (i == 0) continue;
    // Compressed back to the budget after each step (decode chunk 1): the budget and one slot
    // of headroom, padded to the longest head.
    EXPECT_LE(c.kvBytesEnd, c.kvBytesFullEnd * (budgets[i] + 2) / N + 1) << c.setting;
    EXPECT_EQ(c.params["decode_compression"], true);
  }
  // The first token each setting reads sees the same full cache of its budget's tokens.
  EXPECT_NEAR(curves[1].nll[0], curves[0].nll[0], 2e-4);
}

TEST_F(Perplexity, BudgetsThatCannotHoldAndPromptOnlyMethodsAreRefused) {
  const std::vector<int> ids = text();
  EXPECT_NE(errorOf([&] {
              eval::perplexityUnderBudget(model(), ids, {at("h2o", 399)});
            }).find("give cache sizes from 2 to 398"),
            std::string::npos);
  EXPECT_NE(errorOf([&] {
              eval::perplexityUnderBudget(model(), ids, {at("snapkv", 64)});
            }).find("leave snapkv out"),
            std::string::npos);
}

TEST_F(Perplexity, CliPrintsTheTableAndWritesTheCurves) {
  TempDir dir;
  std::ostringstream story;
  story << tinyStories()[0] << " " << tinyStories()[1];
  writeFile(dir.file("story.txt"), story.str());
  const std::string base = "eval perplexity --model " + modelPath("stories260K.bin") + " --text " +
                           dir.file("story.txt") +
                           " --methods full,streaming,h2o --cache-sizes 48,96 --max-tokens 300";
  CliRun run = runCliCommand(base + " --csv " + dir.file("curves.csv"));
  ASSERT_EQ(run.exitCode, 0) << run.err;
  EXPECT_NE(run.out.find("streaming_48tok"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("means over positions 96..299"), std::string::npos) << run.out;
  const std::string csv = readFile(dir.file("curves.csv"));
  // full from 48, two settings from 48, two from 96: (300-48)*3 + (300-96)*2 rows + header.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 252 * 3 + 204 * 2);
  run = runCliCommand(base + " --csv " + dir.file("curves.csv"));
  EXPECT_EQ(run.exitCode, 2);  // an existing file is not replaced without --force
  EXPECT_NE(run.err.find("--force"), std::string::npos) << run.err;
  writeFile(dir.file("empty.txt"), "\n");
  run = runCliCommand("eval perplexity --model " + modelPath("stories260K.bin") + " --text " +
                      dir.file("empty.txt"));
  EXPECT_EQ(run.exitCode, 2);
  EXPECT_NE(run.err.find("is empty"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace kvs::test
