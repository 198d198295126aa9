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

// The cells of slots first[h] .. first[h] + n[h] - 1 of each head of a layer, as they are now.
LayerCells keptCells(const KvCache& cache, int layer, const std::vector<int>& first,
                     const std::vector<int>& n) {
  LayerCells cells;
  for (size_t h = 0; h < first.size(); ++h) {
    const auto& all = cache.cells(layer, static_cast<int>(h));
    cells.heads.emplace_back(all.begin() + first[h], all.begin() + first[h] + n[h]);
  }
  return cells;
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
  EXPECT_EQ(cache.memory().allocated, 0);
  append(cache, 10, 0);
  const CacheMemory m = cache.memory();
  EXPECT_EQ(m.allocated, 2 /*layers*/ * 2 /*k,v*/ * 2 /*Hkv*/ * 10 /*capacity*/ * 4 /*D*/ * 4);
  EXPECT_EQ(m.full, m.allocated);
  EXPECT_EQ(m.used, m.allocated);
  EXPECT_EQ(m.fullPerLayer * 2, m.full);
  EXPECT_EQ(m.layerAllocated, (std::vector<int64_t>{m.allocated / 2, m.allocated / 2}));
  append(cache, 1, 0);
  EXPECT_EQ(cache.memory().allocated, 2 * 2 * 2 * (10 + 64) * 4 * 4);  // decoding grows it
  EXPECT_EQ(cache.memory().used, 2 * 2 * 2 * 11 * 4 * 4);
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
    compressed.replaceLayer(l, {k[0], k[1]}, {v[0], v[1]},
                            keptCells(compressed, l, {0, 0}, {50, 50}));
  }
  for (int step = 0; step < 90; ++step) {
    append(compressed, 1, 0);
    append(full, 1, 0);
    const CacheMemory m = compressed.memory();
    ASSERT_EQ(m.fullAllocated, full.memory().allocated) << "step " << step;
    ASSERT_LT(m.allocated, m.fullAllocated) << "step " << step;
  }
  EXPECT_GT(full.memory().allocated, full.memory().full);  // headroom is counted in both
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
  const int64_t before = cache.memory().layerAllocated[0];
  const at::Tensor k = cache.keys(0).clone();
  cache.replaceLayer(0, {k[0].narrow(0, 0, 30), k[1].narrow(0, 10, 50)},
                     {-k[0].narrow(0, 0, 30), -k[1].narrow(0, 10, 50)},
                     keptCells(cache, 0, {0, 10}, {30, 50}));
  EXPECT_EQ(cache.slotCount(0, 0), 30);
  EXPECT_EQ(cache.slotCount(0, 1), 50);
  EXPECT_EQ(cache.slotCount(1, 0), 100);
  EXPECT_EQ(cache.totalSlots(), 30 + 50 + 200);
  const CacheMemory m = cache.memory();
  EXPECT_EQ(m.layerAllocated[0], 2 * 2 * 50 * 4 * 4);  // padded to the longest head
  EXPECT_LT(m.layerAllocated[0], before);
  EXPECT_GE(m.peak, m.allocated + m.layerAllocated[0]);
  EXPECT_EQ(m.used, (30 + 50 + 200) * 2 * 4 * 4);
  EXPECT_EQ(cache.cells(0, 1).front().first, 10);
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
  EXPECT_EQ(cache.cells(0, 0).back().first, 100);  // its cell follows the head's own
  EXPECT_EQ(cache.cells(0, 1).size(), 51u);
}

// The cache's cells follow every append: one per token, the pending ones dropped on rollback,
// accumulated attention added per slot column.
TEST(KvCache, CellsFollowAppendsAndRollbacks) {
  KvCache cache(cacheConfig());
  append(cache, 3, 0);
  ASSERT_EQ(cache.cells(1, 1).size(), 3u);
  EXPECT_EQ(cache.cells(1, 1)[2].first, 2);
  EXPECT_EQ(cache.cells(1, 1)[2].count, 1);
  cache.beginAppend(2);
  EXPECT_EQ(cache.cells(0, 0).size(), 5u);  // the pending tokens' cells, for the tracker
  EXPECT_EQ(cache.slotCount(0, 0), 3);
  cache.addAttention(
      0, at::tensor({1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0}, at::kDouble).view({2, 5}));
  EXPECT_EQ(cache.cells(0, 1)[4].attention, 10.0);
  cache.rollback();
  EXPECT_EQ(cache.cells(0, 0).size(), 3u);
  EXPECT_EQ(cache.cells(0, 1)[2].attention, 8.0);
  append(cache, 1, 0);
  EXPECT_EQ(cache.cells(0, 0).back().first, 3);
  EXPECT_EQ(cache.cellMap().slots[1][0].size(), 4u);
  cache.clear();
  EXPECT_TRUE(cache.cells(0, 0).empty());
}

// New cells that contradict the cache are refused before anything changes.
TEST(KvCache, RefusesCellsThatContradictTheCache) {
  KvCache cache(cacheConfig());
  append(cache, 10, 0);
  const at::Tensor k = cache.keys(0).clone(), v = cache.values(0).clone();  // [2, 10, 4]
  const auto replace = [&](LayerCells cells) {
    cache.replaceLayer(0, k.narrow(1, 0, 2), v.narrow(1, 0, 2), std::move(cells));
  };
  const auto two = [](Slot a, Slot b) { return LayerCells{{{a, b}, {a, b}}, {}}; };
  EXPECT_THROW(replace(two(Slot::token(0), Slot::token(10))), KvsError);           // not seen yet
  EXPECT_THROW(replace(two(Slot::token(3), Slot::token(1))), KvsError);            // out of order
  EXPECT_THROW(replace(two(Slot{0, 4, 2, 5, 0}, Slot{4, 6, 5, 3, 0})), KvsError);  // overlap
  EXPECT_THROW(replace(two(Slot{0, 4, 7, 5, 0}, Slot::token(6))), KvsError);       // pivot outside
  EXPECT_THROW(replace(two(Slot{0, 2, 1, 4, 0}, Slot::token(6))), KvsError);       // count > span
  EXPECT_THROW(replace(LayerCells{{{Slot::token(0)}}, {}}), KvsError);             // one head only
  EXPECT_THROW(
      replace(LayerCells{{{Slot::token(0), Slot::token(1), Slot::token(2)}, {Slot::token(0)}}, {}}),
      KvsError);                         // more cells than rows
  EXPECT_EQ(cache.slotCount(0, 0), 10);  // nothing changed
  replace(two(Slot{0, 4, 2, 5, 1.5}, Slot::token(6)));
  EXPECT_EQ(cache.slotCount(0, 1), 2);
  EXPECT_EQ(cache.cells(0, 1)[0].pivot, 2);
  EXPECT_TRUE(std::isnan(cache.decision(0, 1).eps));
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
  cache.replaceLayer(0, {k[0].narrow(0, 0, 2), k[1]}, {k[0].narrow(0, 0, 2), k[1]},
                     keptCells(cache, 0, {0, 0}, {2, 4}));
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
