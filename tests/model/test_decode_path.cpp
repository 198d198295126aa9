// The one decode path (session/decode.h) on stories260K: every entry point that decodes gives the
// same tokens and the same cache bytes for the same setting, wherever the prompt's state comes
// from (a fresh prefill, a kept prefill, the Session) and whether the tokens are chosen or forced.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "session/comparison.h"
#include "session/decode.h"
#include "session/session.h"
#include "session/variant.h"
#include "stories_fixture.h"
#include "test_util.h"

namespace kvs::test {
namespace {

// The stories260K fixture under this file's suite name.
class DecodePath : public Stories {};

// The settings every check runs: no compression, compression of the prompt only, and compression
// while decoding (which re-compresses between steps).
std::vector<CompressionParams> settings() {
  CompressionParams h2o;
  h2o.method = "h2o";
  h2o.budget = 0.5;
  CompressionParams decoding = kvmerger(0.5);
  decoding.decodeCompression = true;
  decoding.decodeChunk = 8;
  return {CompressionParams{}, h2o, kvmerger(0.35), decoding};
}

void expectSameRun(const DecodeResult& a, const DecodeResult& b, const std::string& what) {
  EXPECT_EQ(a.generatedIds, b.generatedIds) << what;
  EXPECT_EQ(a.stopReason, b.stopReason) << what;
  EXPECT_EQ(a.decodeForwardPasses, b.decodeForwardPasses) << what;
  EXPECT_EQ(a.compression.slots, b.compression.slots) << what;
  EXPECT_EQ(a.compression.bytes, b.compression.bytes) << what;
  EXPECT_EQ(a.bytesPerStep, b.bytesPerStep) << what;
  EXPECT_EQ(a.fullBytesPerStep, b.fullBytesPerStep) << what;
  EXPECT_EQ(a.memory.allocated, b.memory.allocated) << what;
  EXPECT_EQ(a.memory.used, b.memory.used) << what;
  ASSERT_EQ(a.cells.layers(), b.cells.layers()) << what;
  for (int l = 0; l < a.cells.layers(); ++l) {
    for (int h = 0; h < a.cells.kvHeads(); ++h) {
      ASSERT_EQ(a.cells.head(l, h).size(), b.cells.head(l, h).size()) << what;
      for (size_t s = 0; s < a.cells.head(l, h).size(); ++s) {
        EXPECT_EQ(a.cells.head(l, h)[s].first, b.cells.head(l, h)[s].first) << what;
        EXPECT_EQ(a.cells.head(l, h)[s].count, b.cells.head(l, h)[s].count) << what;
      }
    }
  }
}

TEST_F(DecodePath, GenerateRunVariantAndFromStateDecodeAlike) {
  const GenerationRequest request = greedyRequest(tokenizer(), 160);
  const PrefillState state = prefillPrompt(model(), request.promptIds);
  const DecodeResult plain = generate(model(), request);
  expectSameRun(plain, runVariant(model(), request, CompressionParams{}), "generate vs full");
  for (const CompressionParams& p : settings()) {
    const DecodeResult scratch = runVariant(model(), request, p);
    const DecodeResult kept = runVariantFromState(model(), state, request, p);
    expectSameRun(scratch, kept, p.method + " from scratch vs from the kept prefill");
    // Every slot map covers every token the cache saw (untracked steps included).
    int covered = 0;
    for (const Slot& s : kept.cells.head(0, 0)) covered += s.count;
    if (!compresses(p)) EXPECT_EQ(covered, request.steps) << p.method;
    EXPECT_EQ(kept.bytesPerStep.size(), kept.generatedIds.size()) << p.method;
  }
}

TEST_F(DecodePath, SampledDecodingDrawsInTheSameOrderFromAKeptPrefill) {
  GenerationRequest request = greedyRequest(tokenizer(), 120);
  request.sampling = {1.0f, 0.9f, 77};
  const PrefillState state = prefillPrompt(model(), request.promptIds);
  for (const CompressionParams& p : {CompressionParams{}, kvmerger(0.5)}) {
    EXPECT_EQ(runVariant(model(), request, p).generatedIds,
              runVariantFromState(model(), state, request, p).generatedIds)
        << p.method;
  }
}

// minNewTokens (Hugging Face's min_new_tokens, LongBench's samsum): a stop id cannot be chosen
// before that many tokens; the next best is, and decoding goes on.
TEST_F(DecodePath, MinNewTokensKeepsStopIdsOutOfTheFirstTokens) {
  GenerationRequest request = greedyRequest(tokenizer(), 150);
  request.stopIds.clear();
  const DecodeStart start = prefillStart(model(), request.promptIds, GqaReduction::kMean, false);
  DecodeHooks probs;
  probs.keepLogProbs = true;
  const DecodeResult free = decode(model(), start.clone(), request, CompressionParams{}, probs);
  request.stopIds = {free.generatedIds[0], free.generatedIds[1]};
  const DecodeResult stops = decode(model(), start.clone(), request, CompressionParams{});
  EXPECT_EQ(stops.generatedIds.size(), 1u);  // the greedy first token is a stop id
  DecodeHooks twoFirst;
  twoFirst.minNewTokens = 2;
  const DecodeResult later = decode(model(), start.clone(), request, CompressionParams{}, twoFirst);
  ASSERT_GE(later.generatedIds.size(), 3u);
  // The first token is the best that is not a stop id, by plain ranking of the logits.
  const at::Tensor order = free.logProbs[0].argsort(0, /*descending=*/true);
  int expected = -1;
  for (int64_t i = 0; i < order.size(0) && expected < 0; ++i) {
    const int id = static_cast<int>(order[i].item<int64_t>());
    if (id != request.stopIds[0] && id != request.stopIds[1]) expected = id;
  }
  EXPECT_EQ(later.generatedIds[0], expected);
  for (size_t t = 0; t < 2; ++t) {
    EXPECT_NE(later.generatedIds[t], request.stopIds[0]) << t;
    EXPECT_NE(later.generatedIds[t], request.stopIds[1]) << t;
  }
}

TEST_F(DecodePath, TeacherForcingOnTheFreeTokensIsTheFreeRun) {
  GenerationRequest request = greedyRequest(tokenizer(), 150);
  request.stopIds.clear();  // compare's request: every step runs
  for (const CompressionParams& p : settings()) {
    const DecodeStart start =
        prefillStart(model(), request.promptIds, p.gqaReduction, /*track=*/true);
    DecodeHooks keep;
    keep.keepLogProbs = true;
    const DecodeResult own = decode(model(), start.clone(), request, p, keep);
    DecodeHooks forcing = keep;
    forcing.forced = &own.generatedIds;
    const DecodeResult forced = decode(model(), start.clone(), request, p, forcing);
    expectSameRun(own, forced, p.method + " free vs forced");
    ASSERT_EQ(forced.logProbs.size(), forced.generatedIds.size());
    for (size_t t = 0; t < forced.logProbs.size(); ++t) {
      EXPECT_TRUE(at::equal(own.logProbs[t], forced.logProbs[t])) << p.method << " step " << t;
      EXPECT_EQ(forced.logProbs[t].argmax().item<int64_t>(), own.generatedIds[t]);
    }
  }
}

TEST_F(DecodePath, ACompressedStartDecodesTwiceAlike) {
  // compare compresses once and decodes the start twice (free, forced): the copy must not share
  // storage with the first decode.
  const GenerationRequest request = greedyRequest(tokenizer(), 140);
  DecodeStart start = prefillStart(model(), request.promptIds, GqaReduction::kMean, true);
  const CompressionReport report = compressPrompt(start, kvmerger(0.5));
  DecodeStart copy = start.clone();
  const DecodeResult first = decode(model(), std::move(start), request, kvmerger(0.5));
  const DecodeResult second = decode(model(), std::move(copy), request, kvmerger(0.5));
  expectSameRun(first, second, "twice");
  EXPECT_EQ(first.compression.slots, report.slots);
  EXPECT_EQ(first.generatedIds, runVariant(model(), request, kvmerger(0.5)).generatedIds);
}

TEST_F(DecodePath, CompareRowsAreTheVariantsDecodedAlone) {
  GenerationRequest request = greedyRequest(tokenizer(), 140);
  request.stopIds.clear();
  const auto rows = compareVariants(model(), request.promptIds, request.steps, settings());
  EXPECT_EQ(rows[0].generatedIds, generate(model(), request).generatedIds);
  for (size_t v = 1; v < rows.size(); ++v) {
    const DecodeResult alone = runVariant(model(), request, rows[v].params);
    EXPECT_EQ(rows[v].generatedIds, alone.generatedIds) << rows[v].params.method;
    EXPECT_EQ(rows[v].kvBytes, alone.compression.bytes) << rows[v].params.method;
    EXPECT_EQ(rows[v].achievedRatio, alone.compression.achievedRatio);
  }
}

TEST_F(DecodePath, SessionRunsTheSameDecodeAsTheFreeFunctions) {
  const auto session =
      Session::open(modelPath("stories260K.bin"), LoadOptions{}, modelPath("tok512.model"));
  PromptSpec spec;
  spec.text = "Once upon a time, there was a little girl named Lily.";
  spec.steps = 100;
  spec.sampling.temperature = 0.0f;
  const GenerationRequest request = session->request(spec);
  EXPECT_EQ(request.promptIds, tokenizer().encode(spec.text));
  EXPECT_EQ(request.stopIds, (std::vector<int>{tokenizer().bosId(), tokenizer().eosId()}));
  session->prefill(request);
  for (const CompressionParams& p : settings()) {
    expectSameRun(session->decode(p), runVariant(model(), request, p), p.method + " session");
    expectSameRun(session->run(request, p), runVariant(model(), request, p), p.method + " run");
  }
}

TEST_F(DecodePath, MakeRequestChecksOnceInTheCallersTerms) {
  const auto check = [&](PromptSpec spec) {
    return errorOf([&] { makeRequest(model(), tokenizer(), spec); });
  };
  PromptSpec spec;
  spec.text = "Once upon a time";
  spec.steps = 3;
  spec.stepsName = "Steps";
  EXPECT_NE(check(spec).find("Steps 3 is less than the prompt's 5 tokens"), std::string::npos)
      << check(spec);
  spec.steps = 1000;
  EXPECT_NE(check(spec).find("exceeds the model's context of 512"), std::string::npos);
  spec.steps = 0;
  spec.newTokens = 64;  // chosen at positions 4 .. 67 (llama2.c chooses one at every position
                        // from the prompt's last on)
  EXPECT_EQ(makeRequest(model(), tokenizer(), spec).steps, 5 + 64 - 1);
  std::vector<std::string> notes;
  spec.newTokens = 600;
  spec.newTokensName = "New tokens";
  EXPECT_EQ(makeRequest(model(), tokenizer(), spec, &notes).steps, 512);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("New tokens 600 capped at 508"), std::string::npos) << notes[0];
  spec.text = "";
  spec.promptFix = "type a prompt";
  EXPECT_NE(check(spec).find("the prompt is empty; type a prompt"), std::string::npos);
  spec.chat = true;
  EXPECT_NE(check(spec).find("needs a user message; type a prompt"), std::string::npos);
  spec.chat = false;
  spec.bosOnly = true;
  EXPECT_EQ(makeRequest(model(), tokenizer(), spec).promptIds, std::vector<int>{1});
  std::string longText;
  for (int i = 0; i < 300; ++i) longText += "the dog ";
  spec.bosOnly = false;
  spec.text = longText;
  EXPECT_NE(check(spec).find("the model's context is 512 positions; shorten the prompt"),
            std::string::npos);
  EXPECT_NE(errorOf([] {
              requirePromptFits(600, 512, "prompt 2 of p.txt");
            }).find("prompt 2 of p.txt is 600 tokens"),
            std::string::npos);
}

}  // namespace
}  // namespace kvs::test
