#pragma once
// The real stories260K model and its tokenizer, loaded once per test binary.

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

#include "model/llama_model.h"
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

}  // namespace kvs::test
