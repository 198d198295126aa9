// Where a model's weights live (cache/mapped_storage.h: copyForWeights, concatForWeights): large
// ones in a mapping advised for transparent huge pages, which decode streams with fewer TLB
// misses (110M float32 decode 46.9 -> 50.6 tokens/s in alternating rounds), small ones in
// ordinary tensors (a 2 MiB page per norm vector would waste memory); the values are the
// tensors' own, converted when asked, and the concatenation is at::cat's. A loaded model's fused
// matrices come back mapped, so the placement cannot silently disappear.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "cache/mapped_storage.h"
#include "model/hf_checkpoint.h"
#include "model/hf_export.h"
#include "model/llama_weights.h"
#include "model/model_config.h"
#include "naive_llama.h"
#include "test_util.h"

namespace kvs {
namespace {

TEST(WeightStorage, LargeCopiesAreMappedSmallOnesAreNotAndTheValuesAreKept) {
  const at::Tensor large = at::randn({1024, 640});  // 2.5 MiB of float32
  const at::Tensor small = at::randn({64, 64});
  const at::Tensor l = copyForWeights(large, at::kFloat);
  EXPECT_TRUE(isMapped(l));
  EXPECT_TRUE(at::equal(l, large));
  EXPECT_FALSE(l.is_same(large));
  const at::Tensor s = copyForWeights(small, at::kFloat);
  EXPECT_FALSE(isMapped(s));
  EXPECT_TRUE(at::equal(s, small));
  const at::Tensor b = copyForWeights(large.t(), at::kBFloat16);  // converted, made contiguous
  EXPECT_TRUE(b.is_contiguous());
  EXPECT_EQ(b.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(b, large.t().to(at::kBFloat16)));
}

TEST(WeightStorage, ConcatenationIsAtCatAndRefusesPartsOfAnotherWidth) {
  const at::Tensor a = at::randn({700, 512}), b = at::randn({400, 512}), c = at::randn({5, 512});
  const at::Tensor joined = concatForWeights({a, b, c}, at::kFloat);
  EXPECT_TRUE(isMapped(joined));
  EXPECT_TRUE(at::equal(joined, at::cat({a, b, c}, 0)));
  EXPECT_TRUE(at::equal(concatForWeights({a, c}, at::kHalf), at::cat({a, c}, 0).to(at::kHalf)));
  EXPECT_THROW(concatForWeights({a, at::randn({3, 1})}, at::kFloat), c10::Error);
}

TEST(WeightStorage, ALoadedModelsLargeMatricesAreMapped) {
  ModelConfig c;
  c.dim = 256, c.hiddenDim = 1024, c.nLayers = 1, c.nHeads = 4, c.nKvHeads = 4;
  c.vocabSize = 4096, c.seqLen = 64;
  const LlamaWeights w = fuseWeights(c, randomWeights(c, 1));
  EXPECT_TRUE(isMapped(w.layers[0].w13));  // [2048, 256] float32: 2 MiB
  EXPECT_TRUE(isMapped(w.embedding));      // [4096, 256]: 4 MiB
  EXPECT_FALSE(isMapped(w.layers[0].attnNorm));
}

// The Hugging Face loader: its fused q/k/v and gate/up copies, and a matrix converted on the
// way (float32 file, bfloat16 load), come back mapped; a matrix already in the wanted dtype
// stays a view of the file.
TEST(WeightStorage, AHuggingFaceLoadsCopiesAreMapped) {
  ModelConfig c;
  c.dim = 256, c.hiddenDim = 1024, c.nLayers = 1, c.nHeads = 4, c.nKvHeads = 4;
  c.vocabSize = 8192, c.seqLen = 64;
  test::TempDir dir;
  writeHfCheckpoint(dir.file("hf"), c, randomWeights(c, 2), {});
  const HfCheckpoint ckpt = HfCheckpoint::open(dir.file("hf"));
  const LlamaWeights w32 = ckpt.toLlamaWeights(at::kFloat, {});
  EXPECT_TRUE(isMapped(w32.layers[0].w13));  // fused: [2048, 256] float32, 2 MiB
  EXPECT_FALSE(isMapped(w32.layers[0].w2));  // a view of the file
  const LlamaWeights w16 = HfCheckpoint::open(dir.file("hf")).toLlamaWeights(at::kBFloat16, {});
  EXPECT_TRUE(isMapped(w16.embedding));  // converted: [8192, 256] bfloat16, 4 MiB
}

}  // namespace
}  // namespace kvs
