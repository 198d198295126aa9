// model/cpu_decode_step.h (a decode token in plain loops) against LlamaModel's layer of tensor ops
// on stories260K: every kind of method (none, compression of the prompt with a per-head mask and a
// slot bias, compression while decoding, StreamingLLM's positions inside the cache), teacher-forced
// on the same tokens, gives the same log-probabilities within float32 rounding whichever path
// runs; observers see the same tensors; float16 weights and float16 / bfloat16 caches take it too,
// and bfloat16 compute does not; splitting the heads over threads changes no bit. The families'
// additions (llama3 RoPE scaling, Mistral's window, Qwen2 biases, Qwen3 q/k norms) are checked
// against the plain-loop reference of transformers in tests/unit/test_model_families.cpp.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iostream>
#include <map>

#include "cache/kv_cache.h"
#include "kernels/worker_pool.h"
#include "model/cpu_decode_step.h"
#include "model/layer_observer.h"
#include "session/decode.h"
#include "stories_fixture.h"
#include "test_util.h"

namespace kvs::test {
namespace {

class CpuDecodeStep : public Stories {};

struct PathGuard {  // leaves the step enabled and the pool as it was
  int threads = kernels::poolThreads();
  ~PathGuard() {
    setCpuDecodeStepEnabled(true);
    kernels::setPoolThreads(threads);
  }
};

std::vector<CompressionParams> everyKind() {
  CompressionParams h2o, biased = kvmerger(0.35), decoding = kvmerger(0.5), streaming;
  h2o.method = "h2o";
  biased.logBias = true;  // +log(n) on merged slots: the mask carries a slot bias
  biased.scaleValues = false;
  decoding.decodeCompression = true;
  decoding.decodeChunk = 8;
  streaming.method = "streaming";
  streaming.positions = StreamingPositions::kCache;  // RoPE below the tokens' own positions
  return {CompressionParams{}, h2o, biased, decoding, streaming};
}

struct PathRun {
  DecodeResult result;
  int64_t steps = 0;  // one-token forwards cpuDecodeStep took
};

PathRun decodeThrough(const LlamaModel& model, const GenerationRequest& request,
                      const CompressionParams& p, bool step, const std::vector<int>* forced) {
  setCpuDecodeStepEnabled(step);
  const DecodeStart start = prefillStart(model, request.promptIds, p.gqaReduction, true);
  DecodeHooks hooks;
  hooks.keepLogProbs = true;
  hooks.forced = forced;
  const int64_t before = cpuDecodeStepCount();
  PathRun run{decode(model, start.clone(), request, p, hooks), 0};
  run.steps = cpuDecodeStepCount() - before;
  return run;
}

// Over the first `steps` chosen tokens.
double worstLogProbDiff(const DecodeResult& a, const DecodeResult& b, size_t steps) {
  EXPECT_EQ(a.logProbs.size(), b.logProbs.size());
  double worst = 0;
  for (size_t t = 0; t < std::min({a.logProbs.size(), b.logProbs.size(), steps}); ++t) {
    worst = std::max(worst, (a.logProbs[t] - b.logProbs[t]).abs().max().item<double>());
  }
  return worst;
}

TEST_F(CpuDecodeStep, EveryKindOfMethodGivesTheLayerOpsLogProbabilities) {
  PathGuard guard;
  GenerationRequest request = greedyRequest(tokenizer(), 150);
  request.stopIds.clear();  // every step runs
  for (const CompressionParams& p : everyKind()) {
    const std::string what = p.method + (p.decodeCompression ? " while decoding" : "");
    const PathRun step = decodeThrough(model(), request, p, true, nullptr);
    const PathRun ops = decodeThrough(model(), request, p, false, &step.result.generatedIds);
    EXPECT_EQ(step.steps, step.result.decodeForwardPasses) << what;
    EXPECT_GT(step.steps, 80) << what;
    EXPECT_EQ(ops.steps, 0) << what;
    // Compression while decoding decides again every decodeChunk steps on attention and key
    // similarities that differ in their last bits, and a merge decided at the edge of eps goes
    // one way or the other: the runs are compared up to the first such decision.
    const size_t compared = p.decodeCompression ? p.decodeChunk + 1 : SIZE_MAX;
    const double worst = worstLogProbDiff(step.result, ops.result, compared);
    std::cout << what << ": max |log p(step) - log p(tensor ops)| " << worst << "\n";
    EXPECT_LT(worst, 1e-4) << what;  // float32 roundings in another order
    EXPECT_EQ(step.result.compression.slots, ops.result.compression.slots) << what;
  }
}

// Keeps a copy of every tensor a forward shows, by (layer, name).
class Taps : public LayerObserver {
 public:
  void onTensor(int layer, const std::string& name, const at::Tensor& t) override {
    seen[{layer, name}] = t.clone();
  }
  bool wantsAttention() const override { return true; }
  std::map<std::pair<int, std::string>, at::Tensor> seen;
};

TEST_F(CpuDecodeStep, ObserversSeeTheTensorsTheLayerOpsShow) {
  PathGuard guard;
  const GenerationRequest request = greedyRequest(tokenizer(), 150);
  // A compressed cache (heads of different lengths: the mask hides their padding), then a token.
  DecodeStart start = prefillStart(model(), request.promptIds, GqaReduction::kMean, true);
  compressPrompt(start, kvmerger(0.35));
  Taps fromStep, fromOps;
  KvCache a = start.cache.clone(), b = start.cache.clone();
  setCpuDecodeStepEnabled(true);
  const at::Tensor la = model().forward({42}, a, LogitsMode::kLast, &fromStep);
  setCpuDecodeStepEnabled(false);
  const at::Tensor lb = model().forward({42}, b, LogitsMode::kLast, &fromOps);
  EXPECT_LT((la - lb).abs().max().item<double>(), 1e-5 * lb.abs().max().item<double>());
  ASSERT_EQ(fromStep.seen.size(), fromOps.seen.size());
  ASSERT_EQ(fromOps.seen.size(), 6u * model().config().nLayers);
  for (const auto& [key, expected] : fromOps.seen) {
    const at::Tensor& got = fromStep.seen.at(key);
    ASSERT_EQ(got.sizes(), expected.sizes()) << key.first << " " << key.second;
    EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-6)) << key.first << " " << key.second;
  }
  for (int l = 0; l < model().config().nLayers; ++l) {  // the cache holds the same new rows
    EXPECT_TRUE(at::allclose(a.keys(l), b.keys(l), 1e-5, 1e-6)) << l;
    EXPECT_TRUE(at::allclose(a.values(l), b.values(l), 1e-5, 1e-6)) << l;
  }
}

// Ten tokens after a prompt through both paths; the step count says which ran.
void expectPathsAgree(const LlamaModel& model, const std::vector<int>& prompt, bool stepTakes,
                      double tolerance) {
  KvCache a = model.makeCache(), b = model.makeCache();
  model.forward(prompt, a);
  model.forward(prompt, b);
  for (int t = 0; t < 10; ++t) {
    const int token = (t * 37 + 5) % model.config().vocabSize;
    setCpuDecodeStepEnabled(true);
    const int64_t before = cpuDecodeStepCount();
    const at::Tensor la = model.forward({token}, a);
    EXPECT_EQ(cpuDecodeStepCount() - before, stepTakes ? 1 : 0);
    setCpuDecodeStepEnabled(false);
    const at::Tensor lb = model.forward({token}, b);
    EXPECT_LE((la - lb).abs().max().item<double>(), tolerance * lb.abs().max().item<double>())
        << "token " << t;
  }
}

TEST_F(CpuDecodeStep, EveryWeightAndCacheDtypeTakesIt) {
  PathGuard guard;
  const std::vector<int> prompt = greedyRequest(tokenizer(), 150).promptIds;
  for (const auto& [dtype, kv] : std::vector<std::pair<at::ScalarType, at::ScalarType>>{
           {at::kHalf, at::kHalf}, {at::kFloat, at::kBFloat16}, {at::kHalf, at::kFloat}}) {
    LoadOptions options;
    options.dtype = dtype;
    options.kvDtype = kv;
    const auto model = loadModel(modelPath("stories260K.bin"), options);
    expectPathsAgree(*model, prompt, true, 1e-5);
  }
  // bfloat16 compute: the step keeps the residual stream in float32 where the layer of ops rounds
  // it to bfloat16 after every op, so they differ by bfloat16 roundings (2^-9 relative each)...
  LoadOptions bf16;
  bf16.dtype = at::kBFloat16;
  const auto model = loadModel(modelPath("stories260K.bin"), bf16);
  expectPathsAgree(*model, prompt, true, 0.05);
  // ...and the step is the closer of the two to the float32 model.
  const auto fp32 = loadModel(modelPath("stories260K.bin"));
  KvCache reference = fp32->makeCache(), step = model->makeCache(), ops = model->makeCache();
  fp32->forward(prompt, reference);
  model->forward(prompt, step);
  model->forward(prompt, ops);
  double stepError = 0, opsError = 0;
  for (int t = 0; t < 20; ++t) {
    const int token = (t * 37 + 5) % fp32->config().vocabSize;
    const at::Tensor exact = fp32->forward({token}, reference);
    setCpuDecodeStepEnabled(true);
    stepError += (model->forward({token}, step) - exact).abs().mean().item<double>();
    setCpuDecodeStepEnabled(false);
    opsError += (model->forward({token}, ops) - exact).abs().mean().item<double>();
  }
  std::cout << "bfloat16 against float32, mean |logit error|: step " << stepError / 20
            << ", tensor ops " << opsError / 20 << "\n";
  EXPECT_LT(stepError, opsError);
}

// A head dim of 64 over 300 cached tokens: the heads are split over the pool (above 16,384
// elements per KV head), and the split changes no bit.
TEST_F(CpuDecodeStep, HeadsSplitOverThreadsChangeNoBit) {
  PathGuard guard;
  ModelConfig c;
  c.dim = 256, c.hiddenDim = 96, c.nLayers = 2, c.nHeads = 4, c.nKvHeads = 2;
  c.vocabSize = 64, c.seqLen = 320;
  const LlamaModel model(c, fuseWeights(c, randomWeights(c, 5)));
  std::vector<int> prompt;
  for (int i = 0; i < 300; ++i) prompt.push_back((i * 13 + 1) % c.vocabSize);
  KvCache base = model.makeCache();
  model.forward(prompt, base);
  std::vector<at::Tensor> logits;
  for (int threads : {1, 3}) {
    kernels::setPoolThreads(threads);
    KvCache cache = base.clone();
    logits.push_back(model.forward({7}, cache));
  }
  EXPECT_TRUE(at::equal(logits[0], logits[1]));
  expectPathsAgree(model, prompt, true, 1e-5);
}

// A cache of another shape (made by another model) is not read past its ends by the raw loops:
// the step declines it and the general path's shape checks refuse it.
TEST_F(CpuDecodeStep, ACacheOfAnotherShapeIsRefusedNotOverrun) {
  ModelConfig other = model().config();
  other.nKvHeads = 2 * other.nKvHeads;  // 8 KV heads where stories260K has 4
  KvCache foreign(other);
  const int64_t before = cpuDecodeStepCount();
  EXPECT_ANY_THROW(model().forward({1}, foreign));
  EXPECT_EQ(before, cpuDecodeStepCount());
  EXPECT_EQ(0, foreign.length());  // rolled back
}

}  // namespace
}  // namespace kvs::test
