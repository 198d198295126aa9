#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "cache/kv_cache.h"
#include "util/error.h"

namespace kvs {
namespace {

ModelConfig cacheConfig() {
  ModelConfig c;
  c.dim = 16, c.hiddenDim = 32, c.nLayers = 2, c.nHeads = 4, c.nKvHeads = 2;
  c.vocabSize = 10, c.seqLen = 200;
  return c;
}

// Appends n tokens whose key element (token i, head h, dim d) is base + 1000 l + (i*2 + h)*4 + d.
void append(KvCache& cache, int n, float base) {
  cache.beginAppend(n);
  for (int l = 0; l < 2; ++l) {
    const at::Tensor k = at::arange(n * 2 * 4, at::kFloat).view({n, 2, 4}) + base + 1000 * l;
    cache.write(l, k, -k);
  }
  cache.commit();
}

TEST(KvCache, AppendsAcrossGrowthKeepEarlierTokens) {
  KvCache cache(cacheConfig());
  append(cache, 3, 0);
  EXPECT_EQ(cache.length(), 3);
  EXPECT_EQ(cache.capacity(0), 3);                 // the first append gets exactly its size
  const at::Tensor first = cache.keys(1).clone();  // [Hkv, 3, D]
  append(cache, 100, 5000);
  EXPECT_EQ(cache.length(), 103);
  EXPECT_EQ(cache.slotCount(1, 0), 103);
  EXPECT_EQ(cache.capacity(0), 103);  // grown by at least 64 slots
  append(cache, 1, 0);
  EXPECT_EQ(cache.capacity(0), 103 + 64);
  EXPECT_TRUE(at::equal(cache.keys(1).narrow(1, 0, 3), first));
  EXPECT_TRUE(at::equal(cache.values(1).narrow(1, 0, 3), -first));
  const at::Tensor expected = at::arange(4, at::kFloat) + 5000 + 1000 + (3 * 2 + 1) * 4;
  EXPECT_TRUE(at::equal(cache.keys(1)[1][3 + 3], expected));
}

TEST(KvCache, BytesAreTheAllocatedStorage) {
  KvCache cache(cacheConfig());
  EXPECT_EQ(cache.bytes(), 0);
  append(cache, 10, 0);
  EXPECT_EQ(cache.bytes(), 2 /*layers*/ * 2 /*k,v*/ * 2 /*Hkv*/ * 10 /*capacity*/ * 4 /*D*/ * 4);
  EXPECT_EQ(cache.fullBytes(), cache.bytes());
  append(cache, 1, 0);
  EXPECT_EQ(cache.bytes(), 2 * 2 * 2 * (10 + 64) * 4 * 4);  // decoding grows the storage
}

// The full-cache figure while decoding is what an uncompressed cache with the same appends
// really allocates, so a compressed cache stays below it despite its own growth headroom.
TEST(KvCache, FullAllocatedBytesFollowsAnUncompressedCache) {
  KvCache compressed(cacheConfig()), full(cacheConfig());
  append(compressed, 100, 0);
  append(full, 100, 0);
  for (int l = 0; l < 2; ++l) {
    const at::Tensor k = compressed.keys(l).narrow(1, 0, 50),
                     v = compressed.values(l).narrow(1, 0, 50);
    compressed.replaceLayer(l, {k[0], k[1]}, {v[0], v[1]});
  }
  for (int step = 0; step < 90; ++step) {
    append(compressed, 1, 0);
    append(full, 1, 0);
    ASSERT_EQ(compressed.fullAllocatedBytes(), full.bytes()) << "step " << step;
    ASSERT_LT(compressed.bytes(), compressed.fullAllocatedBytes()) << "step " << step;
  }
  EXPECT_GT(full.bytes(), full.fullBytes());  // headroom is counted in both
}

TEST(KvCache, RollbackDropsPendingTokens) {
  KvCache cache(cacheConfig());
  append(cache, 2, 0);
  cache.beginAppend(5);
  EXPECT_EQ(cache.keys(0).size(1), 7);
  cache.rollback();
  EXPECT_EQ(cache.length(), 2);
  EXPECT_EQ(cache.keys(0).size(1), 2);
}

TEST(KvCache, RefusesToGrowPastTheContext) {
  KvCache cache(cacheConfig());
  append(cache, 180, 0);
  EXPECT_EQ(cache.capacity(0), 180);
  append(cache, 10, 0);
  EXPECT_EQ(cache.capacity(0), 200);  // growth is capped at the context
  EXPECT_THROW(cache.beginAppend(11), KvsError);
  EXPECT_EQ(cache.length(), 190);
}

TEST(KvCache, ReplaceLayerFreesMemoryAndKeepsPerHeadSlots) {
  KvCache cache(cacheConfig());
  append(cache, 100, 0);
  const int64_t before = cache.layerBytes(0);
  const at::Tensor k = cache.keys(0).clone();
  cache.replaceLayer(0, {k[0].narrow(0, 0, 30), k[1].narrow(0, 10, 50)},
                     {-k[0].narrow(0, 0, 30), -k[1].narrow(0, 10, 50)});
  EXPECT_EQ(cache.slotCount(0, 0), 30);
  EXPECT_EQ(cache.slotCount(0, 1), 50);
  EXPECT_EQ(cache.slotCount(1, 0), 100);
  EXPECT_EQ(cache.totalSlots(), 30 + 50 + 200);
  EXPECT_EQ(cache.layerBytes(0), 2 * 2 * 50 * 4 * 4);  // padded to the longest head
  EXPECT_LT(cache.layerBytes(0), before);
  EXPECT_GE(cache.peakBytes(), cache.bytes() + cache.layerBytes(0));
  EXPECT_EQ(cache.length(), 100);  // positions are not slots
  EXPECT_TRUE(at::equal(cache.keys(0)[1].narrow(0, 0, 50), k[1].narrow(0, 10, 50)));
  EXPECT_TRUE(at::equal(cache.values(0)[0].narrow(0, 0, 30), -k[0].narrow(0, 0, 30)));

  // A new token goes after each head's own slots.
  append(cache, 1, 9000);
  EXPECT_EQ(cache.length(), 101);
  EXPECT_EQ(cache.slotCount(0, 0), 31);
  EXPECT_EQ(cache.slotCount(0, 1), 51);
  EXPECT_TRUE(at::equal(cache.keys(0)[0][30], at::arange(4, at::kFloat) + 9000));
  EXPECT_TRUE(at::equal(cache.keys(0)[1][50], at::arange(4, at::kFloat) + 9000 + 4));
}

TEST(KvCache, AttentionMaskHidesPaddingAndFutureSlots) {
  KvCache cache(cacheConfig());
  append(cache, 4, 0);
  cache.beginAppend(1);
  EXPECT_FALSE(cache.attentionMask(0, 2).defined());  // one token, equal heads
  cache.rollback();
  cache.beginAppend(2);
  const at::Tensor causal = cache.attentionMask(0, 1);  // [1, 2, 6]
  EXPECT_EQ(causal.sizes(), (std::vector<int64_t>{1, 2, 6}));
  EXPECT_TRUE(std::isinf(causal[0][0][5].item<float>()));
  EXPECT_EQ(causal[0][0][4].item<float>(), 0.0f);
  EXPECT_EQ(causal[0][1][5].item<float>(), 0.0f);
  cache.rollback();

  const at::Tensor k = cache.keys(0).clone();
  cache.replaceLayer(0, {k[0].narrow(0, 0, 2), k[1]}, {k[0].narrow(0, 0, 2), k[1]});
  cache.beginAppend(1);
  const at::Tensor mask = cache.attentionMask(0, 2);  // [Hkv, G*1, 5]
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{2, 2, 5}));
  // head 0 holds 2 slots + the new one at slot 2; slots 3, 4 are padding
  const at::Tensor expected0 = at::tensor({0.0f, 0.0f, 0.0f, -INFINITY, -INFINITY});
  EXPECT_TRUE(at::equal(mask[0][0], expected0));
  EXPECT_TRUE(at::equal(mask[0][1], expected0));
  EXPECT_TRUE(at::equal(mask[1][1], at::zeros({5})));
}

}  // namespace
}  // namespace kvs
