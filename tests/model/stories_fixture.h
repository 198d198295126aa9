#pragma once
// The real stories260K model and its tokenizer, loaded once per test binary.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "model/llama_model.h"
#include "model/model_loader.h"
#include "session/request.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace kvs::test {

class Stories : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string path = modelPath("stories260K.bin");
    ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run .ci/setup.sh";
    model_ = loadModel(path).release();
    tokenizer_ = new Tokenizer(Tokenizer::load(modelPath("tok512.model")));
  }
  static void TearDownTestSuite() {
    delete model_;
    delete tokenizer_;
  }
  static const LlamaModel& model() { return *model_; }
  static const Tokenizer& tokenizer() { return *tokenizer_; }

 private:
  static inline LlamaModel* model_ = nullptr;
  static inline Tokenizer* tokenizer_ = nullptr;
};

// The full cache, then each method at a 50% budget: the settings the evaluation tests run.
inline std::vector<CompressionParams> fullAndHalfBudget(const std::vector<std::string>& methods) {
  std::vector<CompressionParams> settings(1);
  for (const std::string& method : methods) {
    CompressionParams p;
    p.method = method;
    p.budget = 0.5;
    settings.push_back(p);
  }
  return settings;
}

// Greedy generation of a story prompt long enough to compress, stopping at BOS or EOS.
inline GenerationRequest greedyRequest(const Tokenizer& t, int steps) {
  GenerationRequest r;
  r.promptIds = t.encode(
      "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
      "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.");
  r.steps = steps;
  r.sampling.temperature = 0.0f;
  r.stopIds = {t.bosId(), t.eosId()};
  return r;
}

}  // namespace kvs::test
