// Compression rewrites a layer inside its own storage and gives the rest back (KvCache::
// rewriteLayerInPlace). Checked against the general path, which builds the layer in new storage
// and is what a cache whose storage is shared still takes.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "cache/kv_cache.h"
#include "compress/compression_policy.h"

namespace kvs {
namespace {

ModelConfig config(int layers, int kvHeads, int T, int headDim) {
  ModelConfig c;
  c.nLayers = layers, c.nKvHeads = kvHeads, c.nHeads = kvHeads, c.dim = kvHeads * headDim;
  c.hiddenDim = 8, c.vocabSize = 10, c.seqLen = T + 16;
  return c;
}

// A cache of T tokens with neighbour-correlated keys, its cells with random attention.
struct Prefilled {
  KvCache cache;
  // roundedTo: values drawn in float32, rounded to this dtype, stored as dtype (so a float32
  // cache can hold exactly what a bf16 one holds).
  Prefilled(const ModelConfig& c, int T, at::ScalarType dtype, uint64_t seed,
            at::ScalarType roundedTo = at::kFloat)
      : cache(c, at::TensorOptions(dtype)) {
    at::manual_seed(seed);
    const int H = c.nKvHeads, D = c.headDim();
    cache.beginAppend(T);
    for (int l = 0; l < c.nLayers; ++l) {
      const at::Tensor k = at::randn({1, H, D}) + 0.15 * at::randn({T, H, D}).cumsum(0);
      const at::Tensor v = at::randn({T, H, D});
      cache.write(l, k.to(roundedTo).to(dtype), v.to(roundedTo).to(dtype));
    }
    cache.commit();
    const at::Tensor a = at::rand({c.nLayers, H, T}, at::kDouble);
    for (int l = 0; l < c.nLayers; ++l) cache.setAttention(l, a[l]);
  }
};

// Rows 0..S_h-1 of each head equal, and the padding of `a` is zero.
void expectSameLayers(const KvCache& a, const KvCache& b) {
  for (int l = 0; l < a.nLayers(); ++l) {
    for (int h = 0; h < a.nKvHeads(); ++h) {
      const int S = a.slotCount(l, h);
      ASSERT_EQ(S, b.slotCount(l, h));
      EXPECT_TRUE(at::equal(a.keys(l)[h].narrow(0, 0, S), b.keys(l)[h].narrow(0, 0, S)))
          << "keys of layer " << l << " head " << h;
      EXPECT_TRUE(at::equal(a.values(l)[h].narrow(0, 0, S), b.values(l)[h].narrow(0, 0, S)))
          << "values of layer " << l << " head " << h;
      const int pad = static_cast<int>(a.keys(l).size(1)) - S;
      if (pad > 0) {
        EXPECT_EQ(a.keys(l)[h].narrow(0, S, pad).abs().sum().item<double>(), 0.0);
        EXPECT_EQ(a.values(l)[h].narrow(0, S, pad).abs().sum().item<double>(), 0.0);
      }
    }
  }
}

struct Case {
  std::string method;
  at::ScalarType dtype;
  int kvHeads, tokens, headDim;
  // Blocks of 4 MiB and more are mapped and rewritten in place; smaller heap blocks are rewritten
  // in place and then moved into a block of their new size.
  bool mapped() const {
    return int64_t{kvHeads} * tokens * headDim * c10::elementSize(dtype) >= (4 << 20);
  }
};

class InPlaceCompaction : public ::testing::TestWithParam<Case> {};

TEST_P(InPlaceCompaction, EqualsTheNewStoragePathAndKeepsTheStorage) {
  const Case k = GetParam();
  const ModelConfig c = config(2, k.kvHeads, k.tokens, k.headDim);
  const Prefilled base(c, k.tokens, k.dtype, 3);
  CompressionParams p;
  p.method = k.method;
  p.budget = 0.5;
  const CompressionPlan plan = makePolicy(p)->plan(base.cache);

  KvCache inPlace = base.cache.clone();
  std::vector<const void*> before;
  for (int l = 0; l < 2; ++l) before.push_back(inPlace.keys(l).data_ptr());
  applyPlan(plan, inPlace);

  KvCache general = base.cache.clone();
  const KvCache sharer = general;  // shares the storage, so `general` may not rewrite it
  applyPlan(plan, general);

  expectSameLayers(inPlace, general);
  for (int l = 0; l < 2; ++l) {
    if (k.mapped()) {
      EXPECT_EQ(inPlace.keys(l).data_ptr(), before[l]) << "layer " << l << " moved to new storage";
    }
    EXPECT_NE(general.keys(l).data_ptr(), sharer.keys(l).data_ptr());
    EXPECT_TRUE(at::equal(sharer.keys(l), base.cache.keys(l))) << "a sharing copy was modified";
    EXPECT_TRUE(at::equal(sharer.values(l), base.cache.values(l)));
  }
  EXPECT_LE(inPlace.memory().allocated, base.cache.memory().allocated * 0.5 + 1);
  EXPECT_EQ(inPlace.memory().allocated, general.memory().allocated);
}

INSTANTIATE_TEST_SUITE_P(Policies, InPlaceCompaction,
                         ::testing::Values(Case{"kvmerger", at::kFloat, 2, 120, 8},
                                           Case{"cam", at::kFloat, 2, 120, 8},
                                           Case{"h2o", at::kBFloat16, 2, 120, 8},
                                           Case{"kvmerger", at::kFloat, 8, 1100, 128},
                                           Case{"cam", at::kFloat, 8, 1100, 128},
                                           Case{"streaming", at::kFloat, 8, 1100, 128},
                                           Case{"kvmerger", at::kBFloat16, 16, 1100, 128}),
                         [](const auto& info) {
                           const Case& k = info.param;
                           return k.method + (k.dtype == at::kFloat ? "_f32_" : "_bf16_") +
                                  std::to_string(k.kvHeads * k.tokens * k.headDim);
                         });

// fp16/bf16 caches merge in float32 on the new-storage path too (the GPU's, and a shared
// CPU cache's): the same plan on a float32 cache holding the same (rounded) inputs gives a result
// that differs only by rounding it once to the cache dtype, at most half an ulp.
TEST(HalfPrecisionMerge, NewStoragePathMergesInFloat32) {
  for (const at::ScalarType dtype : {at::kHalf, at::kBFloat16}) {
    for (const std::string method : {"kvmerger", "cam"}) {
      const ModelConfig c = config(2, 2, 200, 16);
      const Prefilled reference(c, 200, at::kFloat, 5, dtype);
      const Prefilled half(c, 200, dtype, 5, dtype);
      CompressionParams p;
      p.method = method;
      p.budget = 0.35;
      const CompressionPlan plan = makePolicy(p)->plan(reference.cache);
      KvCache exact = reference.cache.clone();
      applyPlan(plan, exact);
      KvCache rounded = half.cache.clone();
      const KvCache sharer = rounded;  // shared storage: the new-storage path
      applyPlan(plan, rounded);
      // Half an ulp relative to the value: 2^-11 for fp16 (10 mantissa bits), 2^-8 for bf16.
      const double halfUlp = dtype == at::kHalf ? 1.0 / 2048 : 1.0 / 256;
      for (int l = 0; l < 2; ++l) {
        for (const bool values : {false, true}) {
          const at::Tensor f = (values ? exact.values(l) : exact.keys(l)).to(at::kDouble);
          const at::Tensor r = (values ? rounded.values(l) : rounded.keys(l)).to(at::kDouble);
          const at::Tensor excess = (r - f).abs() - (f.abs() * halfUlp * 1.0001 + 1e-7);
          EXPECT_LE(excess.max().item<double>(), 0.0)
              << method << " " << c10::toString(dtype) << " layer " << l
              << (values ? " values" : " keys");
        }
      }
    }
  }
}

// A head whose new slot reads an old slot before its own index (CaM can merge a value into a
// kept slot further on) is built from a copy: slot 1 = 0.5 old 0 + 0.5 old 3 must see old 0.
// 2 heads x 4100 tokens x 128 float32 is a mapped block, rewritten in place.
TEST(InPlaceCompactionPlan, HeadReadingBackwardsUsesItsOldRows) {
  const int T = 4100;
  const ModelConfig c = config(1, 2, T, 128);
  KvCache cache(c);
  cache.beginAppend(T);
  const at::Tensor k = at::randn({T, 2, 128});
  cache.write(0, k, -k);
  cache.commit();
  std::vector<HeadPlan> heads(2);
  for (HeadPlan& p : heads) {
    p.addEntry(2, 1.0f, 1.0f);
    p.closeSlot(Slot::token(2));
    p.addEntry(0, 0.5f, 0.25f);
    p.addEntry(3, 0.5f, 0.75f);
    p.closeSlot(Slot::token(3));
  }
  const void* storage = cache.keys(0).data_ptr();
  applyLayerPlan(heads, 0, cache);
  EXPECT_EQ(cache.keys(0).data_ptr(), storage);
  for (int h = 0; h < 2; ++h) {
    const at::Tensor old = k.select(1, h);  // [T, 128]
    EXPECT_TRUE(at::allclose(cache.keys(0)[h][0], old[2]));
    EXPECT_TRUE(at::allclose(cache.keys(0)[h][1], 0.5 * old[0] + 0.5 * old[3]));
    EXPECT_TRUE(at::allclose(cache.values(0)[h][1], -(0.25 * old[0] + 0.75 * old[3])));
  }
}

int64_t residentBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// The freed half is given back to the system, not just masked: resident memory drops.
TEST(InPlaceCompactionMemory, ResidentMemoryDropsByWhatWasFreed) {
  const ModelConfig c = config(4, 16, 2000, 128);  // 4 layers x 31 MiB
  Prefilled f(c, 2000, at::kFloat, 4);
  const int64_t held = f.cache.memory().allocated, before = residentBytes();
  CompressionParams p;
  p.method = "streaming";
  p.budget = 0.5;
  makePolicy(p)->compress(f.cache);
  const int64_t freed = held - f.cache.memory().allocated, dropped = before - residentBytes();
  EXPECT_NEAR(static_cast<double>(freed) / held, 0.5, 0.01);
  // Allocator noise is a few MiB at most against 62 MiB freed.
  EXPECT_GT(dropped, freed * 0.8) << "freed " << freed << " bytes, resident fell by " << dropped;
  EXPECT_EQ(f.cache.memory().peak, held) << "no second copy of any layer";
}

}  // namespace
}  // namespace kvs
