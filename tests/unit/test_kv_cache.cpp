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
  EXPECT_EQ(cache.capacity(), 64);
  const at::Tensor first = cache.keys(1).clone();  // [Hkv, 3, D]
  append(cache, 100, 5000);
  EXPECT_EQ(cache.length(), 103);
  EXPECT_EQ(cache.capacity(), 128);
  EXPECT_TRUE(at::equal(cache.keys(1).narrow(1, 0, 3), first));
  EXPECT_TRUE(at::equal(cache.values(1).narrow(1, 0, 3), -first));
  // token 3 of the second append, kv head 1, is element (3, 1) of its [n, Hkv, D] input
  const at::Tensor expected = at::arange(4, at::kFloat) + 5000 + 1000 + (3 * 2 + 1) * 4;
  EXPECT_TRUE(at::equal(cache.keys(1)[1][3 + 3], expected));
}

TEST(KvCache, BytesAreTheAllocatedStorage) {
  KvCache cache(cacheConfig());
  EXPECT_EQ(cache.bytes(), 0);
  append(cache, 10, 0);
  EXPECT_EQ(cache.bytes(), 2 /*layers*/ * 2 /*k,v*/ * 2 /*Hkv*/ * 64 /*capacity*/ * 4 /*D*/ * 4);
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
  append(cache, 100, 0);
  append(cache, 50, 0);
  EXPECT_EQ(cache.capacity(), 200);  // doubling is capped at the context
  EXPECT_THROW(cache.beginAppend(51), KvsError);
  EXPECT_EQ(cache.length(), 150);
}

}  // namespace
}  // namespace kvs
