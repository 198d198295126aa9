// A recording of a kept prefill on stories260K, opened again without the model: the state rebuilt
// from the file is the one the prefill kept (keys, values, keys before RoPE, attention, adjacent
// cosines, accumulated attention), so views and layouts from it match the live session's.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "analysis/merging_layout.h"
#include "io/hdf5_recorder.h"
#include "io/recording_reader.h"
#include "session/prefill_from_recording.h"
#include "session/variant.h"
#include "stories_fixture.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class PrefillFromRecording : public Stories {};

RecordingMeta metaOf(const LlamaModel& model, const Tokenizer& tokenizer,
                     const std::vector<int>& ids) {
  RecordingMeta m;
  m.config = model.config();
  m.promptIds = ids;
  for (int id : ids) m.promptPieces.push_back(tokenizer.piece(id));
  m.command = "test";
  m.settings = "{}";
  return m;
}

TEST_F(PrefillFromRecording, APrefillRecordedWithItsDecodeOpensAsTheKeptState) {
  TempDir dir;
  RecordingOptions o;
  o.path = dir.file("run.h5");
  o.keysPrerope = o.values = o.attention = true;
  const GenerationRequest r = greedyRequest(tokenizer(), 120);
  CompressionParams kvmerger;
  kvmerger.method = "kvmerger";
  auto recorder = std::make_unique<Hdf5Recorder>(o, metaOf(model(), tokenizer(), r.promptIds));
  const PrefillState live =
      prefillPrompt(model(), r.promptIds, {}, int64_t(256) << 20, recorder.get());
  const auto record = [&](int t) {
    recorder->appendToken(t, tokenizer().piece(t));
    return true;
  };
  DecodeHooks hooks;
  hooks.onToken = record;
  hooks.observer = recorder.get();
  const DecodeResult decoded = runVariantFromState(model(), live, r, kvmerger, hooks);
  recorder->addVariant(
      {variantName(kvmerger), kvmerger, decoded.generatedIds, &decoded.cells, "{}"});
  recorder->finish();
  ASSERT_TRUE(recorder->ok()) << recorder->error();
  recorder.reset();
  const RecordingReader reader(o.path);
  const int P = live.tokens();
  EXPECT_EQ(reader.info().tokens, P + int(decoded.generatedIds.size()) - 1);
  const VariantRecord v = reader.variant(variantName(kvmerger));
  EXPECT_EQ(v.generatedIds, decoded.generatedIds);
  EXPECT_EQ(v.slotMap.layers(), model().config().nLayers);

  const RecordedPrefill opened = prefillFromRecording(reader);
  const PrefillState& s = opened.state;
  EXPECT_TRUE(opened.hasKeysPreRope && opened.hasValues && opened.hasAttention);
  EXPECT_EQ(s.promptIds, live.promptIds);
  for (int l = 0; l < model().config().nLayers; ++l) {
    EXPECT_TRUE(at::equal(s.cache().keys(l), live.cache().keys(l).narrow(1, 0, P))) << l;
    EXPECT_TRUE(at::equal(s.cache().values(l), live.cache().values(l).narrow(1, 0, P))) << l;
    EXPECT_TRUE(at::equal(s.keysPreRope[l], live.keysPreRope[l])) << l;
    EXPECT_TRUE(at::equal(s.attention[l], live.attention[l])) << l;
  }
  EXPECT_EQ(s.adjacentCos, live.adjacentCos);
  for (int red = 0; red < 3; ++red) {
    for (int l = 0; l < model().config().nLayers; ++l) {
      for (int h = 0; h < model().config().nKvHeads; ++h) {
        const auto& a = s.caches[red].cells(l, h);
        const auto& b = live.caches[red].cells(l, h);
        ASSERT_EQ(a.size(), b.size());
        for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j].attention, b[j].attention, 1e-9);
      }
    }
  }
  // Attention over the memory limit still feeds the accumulated attention, but is not kept.
  const RecordedPrefill lean = prefillFromRecording(reader, {}, /*attentionLimitBytes=*/0);
  EXPECT_TRUE(lean.hasAttention);
  EXPECT_TRUE(lean.state.attention.empty());
  for (int l = 0; l < model().config().nLayers; ++l) {
    for (int h = 0; h < model().config().nKvHeads; ++h) {
      const auto& a = lean.state.caches[1].cells(l, h);
      const auto& b = live.caches[1].cells(l, h);
      ASSERT_EQ(a.size(), b.size());
      for (size_t j = 0; j < a.size(); ++j) EXPECT_NEAR(a[j].attention, b[j].attention, 1e-9);
    }
  }
  // The merging sets drawn from the file are the live session's.
  const MergingLayout fromFile = computeMergingLayout(s, kvmerger);
  const MergingLayout fromLive = computeMergingLayout(live, kvmerger);
  ASSERT_TRUE(fromFile.error.empty()) << fromFile.error;
  for (int l = 0; l < model().config().nLayers; ++l) {
    for (int h = 0; h < model().config().nKvHeads; ++h) {
      const auto& a = fromFile.heads[l][h].slots;
      const auto& b = fromLive.heads[l][h].slots;
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].first, b[i].first);
        EXPECT_EQ(a[i].pivot, b[i].pivot);
      }
    }
  }
}

TEST_F(PrefillFromRecording, ARecordingWithKeysOnlyOpensWithWhatItHasAndStoppedPrefillsAreRefused) {
  TempDir dir;
  RecordingOptions o;
  o.path = dir.file("keys.h5");
  const GenerationRequest r = greedyRequest(tokenizer(), 120);
  {
    Hdf5Recorder recorder(o, metaOf(model(), tokenizer(), r.promptIds));
    prefillPrompt(model(), r.promptIds, {}, int64_t(256) << 20, &recorder);
    recorder.finish();
  }
  const RecordedPrefill opened = prefillFromRecording(RecordingReader(o.path));
  EXPECT_FALSE(opened.hasKeysPreRope || opened.hasValues || opened.hasAttention);
  EXPECT_TRUE(opened.state.keysPreRope.empty() && opened.state.attention.empty());
  EXPECT_EQ(opened.state.tokens(), int(r.promptIds.size()));

  // Stopped after two layers of the prefill: the prompt's states are not all there.
  o.path = dir.file("stopped.h5");
  {
    Hdf5Recorder recorder(o, metaOf(model(), tokenizer(), r.promptIds));
    int layers = 0;
    EXPECT_THROW(
        prefillPrompt(
            model(), r.promptIds, [&] { return ++layers < 2; }, int64_t(256) << 20, &recorder),
        KvsError);
  }
  try {
    prefillFromRecording(RecordingReader(o.path));
    FAIL() << "a stopped prefill opened";
  } catch (const KvsError& e) {
    SUCCEED() << e.what();
  }
}

TEST(RecordedConfig, KeepsTheRopePairingTheCacheTurnsKeysWith) {
  ModelConfig c = tinyModelConfig(true);
  RecordingInfo info;
  info.layers = c.nLayers, info.kvHeads = c.nKvHeads, info.headDim = c.headDim();
  c.ropeStyle = RopeStyle::kHalfSplit;
  info.modelConfigJson = toJson(c).dump();
  EXPECT_EQ(recordedConfig(info).ropeStyle, RopeStyle::kHalfSplit);
  c.ropeStyle = RopeStyle::kAdjacentPairs;
  info.modelConfigJson = toJson(c).dump();
  EXPECT_EQ(recordedConfig(info).ropeStyle, RopeStyle::kAdjacentPairs);
}

}  // namespace
}  // namespace kvs::test
