// eval needle's core on the real stories260K (context 512): every cell's prompt has the cell's
// length with the needle at a sentence start near its depth, the teacher-forced NLL and first-token
// rank equal a naive reference (one forward over prompt + answer, log-softmax summed by hand),
// the full cache's greedy answer equals a naive greedy loop, runs resume, bad grids are refused.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <regex>
#include <sstream>

#include "cache/kv_cache.h"
#include "eval/needle.h"
#include "session/variant.h"
#include "stories_fixture.h"
#include "util/error.h"

namespace kvs::test {
namespace {

class Needle : public Stories {
 protected:
  static std::string haystack() { return eval::readHaystack(eval::defaultHaystackPath()); }
  // Lengths 64..480 x 5 depths; full, KVMerger and H2O at 50%.
  static eval::NeedleRun run() {
    eval::NeedleRun r;
    r.lengths = {64, 128, 256, 480};
    r.depths = {0, 0.25, 0.5, 0.75, 1};
    r.needles = {eval::defaultNeedle()};
    r.haystack = haystack();
    r.haystackName = "tinystories";
    r.model = "stories260K.bin";
    r.settings = fullAndHalfBudget({"kvmerger", "h2o"});
    return r;
  }
  // Logits of every position of ids from one forward on an empty cache: [n, V], CPU float.
  static at::Tensor allLogits(const std::vector<int>& ids) {
    KvCache cache = model().makeCache();
    return model().forward(ids, cache, LogitsMode::kAll).to(at::kCPU, at::kFloat).contiguous();
  }
  // log softmax(row)[id], by hand in double.
  static double logProb(const at::Tensor& row, int id) {
    const float* x = row.data_ptr<float>();
    const int64_t V = row.numel();
    double max = -std::numeric_limits<double>::infinity(), sum = 0;
    for (int64_t v = 0; v < V; ++v) max = std::max(max, double(x[v]));
    for (int64_t v = 0; v < V; ++v) sum += std::exp(double(x[v]) - max);
    return double(x[id]) - max - std::log(sum);
  }
  static int64_t rankOf(const at::Tensor& row, int id) {
    const float* x = row.data_ptr<float>();
    int64_t rank = 1;
    for (int64_t v = 0; v < row.numel(); ++v) rank += x[v] > x[id];
    return rank;
  }
};

TEST_F(Needle, AnswerContainsIsACaseInsensitiveSubstring) {
  EXPECT_TRUE(eval::answerContains(" The APPLE was red.", "apple"));
  EXPECT_TRUE(eval::answerContains("apple", "  Apple \n"));  // the expected answer is trimmed
  EXPECT_TRUE(eval::answerContains("pineapple", "apple"));   // a substring, not a word
  EXPECT_FALSE(eval::answerContains("app le", "apple"));
  EXPECT_FALSE(eval::answerContains("", "apple"));
  EXPECT_EQ(eval::needleCellId(256, 0.25), "L256_d0.25");
  EXPECT_EQ(eval::needleCellId(64, 0), "L64_d0");
  EXPECT_EQ(eval::needleCellId(480, 1), "L480_d1");
  // The default haystack is the checkout's stories, wherever the binary runs from.
  EXPECT_EQ(std::filesystem::path(eval::defaultHaystackPath()),
            std::filesystem::path(KVS_SOURCE_DIR) / "data/prompts/tinystories_prompts.txt");
}

// The prompt is [BOS] haystack[0, k) needle haystack[k, H) question: exactly the cell's length,
// with k a sentence start within a sentence of depth x H and no sentence start nearer to it.
TEST_F(Needle, PromptsHaveTheCellsLengthAndTheNeedleAtASentenceStartNearItsDepth) {
  const eval::NeedleRun r = run();
  const eval::NeedleParts parts =
      eval::tokenizeNeedle(tokenizer(), r.haystack, r.needles[0], false);
  const std::vector<int> needle = tokenizer().encode("The secret word is apple.", false);
  const std::vector<int> hay = tokenizer().encode(r.haystack, false);
  const std::regex sentenceEnd(R"([.!?]["']? )");  // a sentence end with a sentence after it
  const std::regex endsSentence(R"([.!?]["']?$)");
  for (int L : r.lengths) {
    for (double d : r.depths) {
      SCOPED_TRACE(eval::needleCellId(L, d));
      const eval::NeedlePrompt p = eval::buildNeedlePrompt(tokenizer(), parts, L, d);
      ASSERT_EQ(int(p.ids.size()), L);
      EXPECT_EQ(p.ids[0], tokenizer().bosId());
      const int H = L - 1 - int(needle.size()) - int(parts.suffix.size());
      EXPECT_EQ(p.haystackTokens, H);
      ASSERT_TRUE(std::equal(needle.begin(), needle.end(), p.ids.begin() + p.needlePos));
      const int k = p.needlePos - 1;  // haystack tokens before the needle
      std::vector<int> without(p.ids.begin() + 1, p.ids.begin() + p.needlePos);
      without.insert(without.end(), p.ids.begin() + p.needlePos + needle.size(),
                     p.ids.begin() + 1 + needle.size() + H);
      EXPECT_EQ(without, std::vector<int>(hay.begin(), hay.begin() + H));  // the haystack, in order
      const std::string question =
          tokenizer().decode(std::vector<int>(p.ids.begin() + 1 + needle.size() + H, p.ids.end()));
      EXPECT_EQ(question, "\n\nQuestion: What is the secret word?\nAnswer:");
      // Near the depth: less than a sentence (< 40 tokens in these stories) away.
      const double target = d * H;
      EXPECT_NEAR(p.depthPos, 1 + target, 1e-9);
      EXPECT_LT(std::abs(k - target), 40.0);
      // At a sentence start (the haystack's ends count as ones).
      const std::string before = tokenizer().decode(std::vector<int>(hay.begin(), hay.begin() + k));
      if (k > 0 && k < H) EXPECT_TRUE(std::regex_search(before, endsSentence)) << before;
      // No sentence starts between the depth and the needle (none is nearer).
      const int t = int(std::lround(target)), lo = std::min(k, t), hi = std::max(k, t);
      const std::string between =
          tokenizer().decode(std::vector<int>(hay.begin() + lo, hay.begin() + hi));
      EXPECT_FALSE(std::regex_search(between, sentenceEnd)) << "[" << between << "]";
    }
  }
  // The two ends: right after BOS, right before the question.
  EXPECT_EQ(eval::buildNeedlePrompt(tokenizer(), parts, 256, 0).needlePos, 1);
  const eval::NeedlePrompt end = eval::buildNeedlePrompt(tokenizer(), parts, 256, 1);
  EXPECT_EQ(end.needlePos, 1 + end.haystackTokens);
  // --chat: LongBench's [INST]...[/INST] around it all, the length still the cell's.
  const eval::NeedleParts chat = eval::tokenizeNeedle(tokenizer(), r.haystack, r.needles[0], true);
  const eval::NeedlePrompt wrapped = eval::buildNeedlePrompt(tokenizer(), chat, 256, 0.5);
  ASSERT_EQ(wrapped.ids.size(), 256u);
  const std::string text = tokenizer().decode(wrapped.ids);
  EXPECT_EQ(text.rfind("[INST]", 0), 0u) << text;
  EXPECT_EQ(text.substr(text.size() - 16), "\nAnswer: [/INST]");  // each part tokenized alone
}

// Every record of the grid; the full cache's teacher-forced NLL and rank as a naive forward over
// prompt + answer gives them, and its greedy answer as a naive greedy loop.
TEST_F(Needle, RecordsMatchANaiveReferenceOnTheFullCache) {
  TempDir dir;
  const eval::NeedleRun r = run();
  eval::EvalRecords records = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
  const auto grid = eval::runNeedle(model(), tokenizer(), r, records, {});
  ASSERT_EQ(records.records().size(), 4u * 5 * 3);
  ASSERT_EQ(grid.size(), 3u * 5 * 4);
  const eval::NeedleParts parts =
      eval::tokenizeNeedle(tokenizer(), r.haystack, r.needles[0], false);
  const std::vector<int>& answer = parts.answer;
  const int newline = tokenizer().encode("\n", false).back();
  int differentNll = 0;
  for (size_t i = 0; i < records.records().size(); i += 3) {
    const nlohmann::json& full = records.records()[i];
    const int L = full["length"];
    const double d = full["depth"];
    SCOPED_TRACE(eval::needleCellId(L, d));
    ASSERT_EQ(full["setting"], "full");
    ASSERT_EQ(full["id"], eval::needleCellId(L, d));
    const eval::NeedlePrompt p = eval::buildNeedlePrompt(tokenizer(), parts, L, d);
    EXPECT_EQ(full["prompt_tokens"], L);
    EXPECT_EQ(full["needle_pos"], p.needlePos);
    EXPECT_EQ(full["kv_bytes"], full["kv_bytes_full"]);
    // Teacher forcing: log p(answer[t] | prompt, answer[<t]) from row L-1+t of one forward.
    std::vector<int> ids = p.ids;
    ids.insert(ids.end(), answer.begin(), answer.end());
    const at::Tensor logits = allLogits(ids);  // [L + A, V]
    double nll = 0;
    for (size_t t = 0; t < answer.size(); ++t) {
      const double lp = logProb(logits[L - 1 + t].contiguous(), answer[t]);
      EXPECT_NEAR(full["answer_logprobs"][t].get<double>(), lp, 1e-4) << t;
      nll -= lp;
    }
    EXPECT_NEAR(full["answer_nll"].get<double>(), nll / answer.size(), 1e-4);
    EXPECT_EQ(full["first_token_rank"], rankOf(logits[L - 1].contiguous(), answer[0]));
    // Greedy: argmax each step, stopping at BOS, EOS or a newline after the first token.
    std::vector<int> greedy;
    KvCache cache = model().makeCache();
    at::Tensor last = model().forward(p.ids, cache).to(at::kCPU, at::kFloat).clone();  // [V]
    for (int step = 0; step < r.maxNewTokens; ++step) {
      if (step == 0) {
        for (int s : {tokenizer().bosId(), tokenizer().eosId(), newline}) {
          last[s] = std::numeric_limits<float>::lowest();
        }
      }
      const int token = int(last.argmax().item<int64_t>());
      greedy.push_back(token);
      if (token == tokenizer().bosId() || token == tokenizer().eosId() || token == newline) break;
      if (step + 1 < r.maxNewTokens) {
        last = model().forward({token}, cache).to(at::kCPU, at::kFloat);
      }
    }
    EXPECT_EQ(full["greedy"], tokenizer().decode(greedy));
    EXPECT_EQ(full["generated_tokens"], greedy.size());
    EXPECT_EQ(full["contains"].get<int>(),
              eval::answerContains(tokenizer().decode(greedy), "apple") ? 1 : 0);
    // The compressed settings: same cell, less cache; the first answer token is predicted in the
    // prefill, before compression, so its rank is the full cache's.
    for (size_t s = 1; s < 3; ++s) {
      const nlohmann::json& v = records.records()[i + s];
      EXPECT_EQ(v["id"], full["id"]);
      EXPECT_EQ(v["needle_pos"], full["needle_pos"]);
      EXPECT_LT(v["kv_bytes"].get<int64_t>(), v["kv_bytes_full"].get<int64_t>());
      EXPECT_EQ(v["first_token_rank"], full["first_token_rank"]);
      differentNll += v["answer_nll"].get<double>() != full["answer_nll"].get<double>();
    }
  }
  EXPECT_GT(differentNll, 0) << "compression changed no answer's NLL";
  // The grid: settings, then depths, then lengths; one needle per cell.
  EXPECT_EQ(grid[0].setting, "full");
  EXPECT_EQ(grid[1].length, 128);
  EXPECT_EQ(grid[4].depth, 0.25);
  EXPECT_EQ(grid[20].setting, records.records()[1]["setting"]);
  for (const auto& c : grid) EXPECT_EQ(c.samples, 1);
  EXPECT_EQ(grid[0].meanNll, records.records()[0]["answer_nll"].get<double>());
}

// Forcing the token greedy decoding picks first gives rank 1 under every setting. The answer is
// the first word of the full cache's greedy answer (in tok512 often "▁" + pieces; its first token
// is then the greedy "▁").
TEST_F(Needle, ForcingTheGreedyFirstTokenRanksIt1) {
  eval::NeedleRun r = run();
  r.lengths = {256};
  r.depths = {0.5};
  const eval::NeedleParts parts =
      eval::tokenizeNeedle(tokenizer(), r.haystack, r.needles[0], false);
  const eval::NeedlePrompt p = eval::buildNeedlePrompt(tokenizer(), parts, 256, 0.5);
  const int first = int(allLogits(p.ids)[255].argmax().item<int64_t>());
  GenerationRequest request;
  request.promptIds = p.ids;
  request.steps = 256 + 7;
  request.sampling.temperature = 0;
  std::istringstream greedy(tokenizer().decode(generate(model(), request).generatedIds));
  std::string word;
  greedy >> word;
  ASSERT_FALSE(word.empty());
  ASSERT_EQ(tokenizer().encode(word, false)[0], first) << word;
  r.needles[0].answer = word;
  TempDir dir;
  eval::EvalRecords records = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
  eval::runNeedle(model(), tokenizer(), r, records, {});
  ASSERT_EQ(records.records().size(), 3u);
  for (const auto& rec : records.records()) {
    EXPECT_EQ(rec["first_token_rank"], 1) << rec["setting"];
    EXPECT_EQ(rec["answer"], word);
  }
  EXPECT_EQ(records.records()[0]["contains"], 1);  // the full cache says the word it was asked
}

TEST_F(Needle, AStoppedRunResumesAndAFinishedOneWritesNothingNew) {
  TempDir dir;
  eval::NeedleRun r = run();
  r.lengths = {64, 128};
  r.depths = {0, 1};
  {
    eval::EvalRecords part = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
    EXPECT_THROW(
        eval::runNeedle(model(), tokenizer(), r, part, [](int done, int) { return done < 5; }),
        KvsError);
    EXPECT_EQ(part.records().size(), 5u);
  }
  int calls = 0, last = 0;
  const auto count = [&](int done, int total) {
    ++calls;
    last = done;
    EXPECT_EQ(total, 2 * 2 * 3);
    return true;
  };
  {
    eval::EvalRecords records = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
    eval::runNeedle(model(), tokenizer(), r, records, count);
    EXPECT_EQ(calls, 12 - 5);  // only what was missing
    EXPECT_EQ(last, 12);
    EXPECT_EQ(records.records().size(), 12u);
  }
  const std::string before = readFile(dir.file("out.jsonl"));
  calls = 0;
  {
    eval::EvalRecords records = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
    const auto grid = eval::runNeedle(model(), tokenizer(), r, records, count);
    EXPECT_EQ(calls, 0);
    for (const auto& c : grid) EXPECT_EQ(c.samples, 1);
  }
  EXPECT_EQ(readFile(dir.file("out.jsonl")), before);
  // Another needle's records are not this run's: refused, not mixed in.
  r.needles[0].answer = "pear";
  eval::EvalRecords records = eval::EvalRecords::open(dir.file("out.jsonl"), r.model, nullptr);
  EXPECT_NE(errorOf([&] {
              eval::runNeedle(model(), tokenizer(), r, records, {});
            }).find("holds needle records of another needle"),
            std::string::npos);
}

TEST_F(Needle, BadGridsAreRefusedNamingTheFix) {
  const auto refused = [&](const eval::NeedleRun& r) {
    return errorOf([&] { eval::checkNeedleRun(model(), tokenizer(), r); });
  };
  eval::NeedleRun r = run();
  EXPECT_EQ(refused(r), "(no error)");
  r.lengths = {64, 500};  // 500 + 16 answer tokens > 512
  EXPECT_NE(refused(r).find("--lengths 500 and the answer's room of 16 tokens"), std::string::npos)
      << refused(r);
  EXPECT_NE(refused(r).find("give lengths up to 496"), std::string::npos) << refused(r);
  r.lengths = {20};
  EXPECT_NE(refused(r).find("leaves no room for a haystack"), std::string::npos) << refused(r);
  r = run();
  r.depths = {0, 1.5};
  EXPECT_NE(refused(r).find("--depths 1.5 is outside [0, 1]"), std::string::npos) << refused(r);
  r.depths = {-0.1};
  EXPECT_NE(refused(r).find("outside [0, 1]"), std::string::npos) << refused(r);
  r = run();
  r.needles[0].needle = "  ";
  EXPECT_NE(refused(r).find("the needle is empty"), std::string::npos) << refused(r);
  r = run();
  r.haystack = tokenizer().decode(tokenizer().encode(r.haystack, false)).substr(0, 600);
  r.haystackName = "short.txt";
  const int have = int(tokenizer().encode(r.haystack, false).size());
  EXPECT_NE(refused(r).find("the haystack short.txt has " + std::to_string(have) + " tokens"),
            std::string::npos)
      << refused(r);
}

}  // namespace
}  // namespace kvs::test
