// Reading recordings that are corrupt, cut short or hostile (RecordingReader, checkRecording) and
// the child process that survives a crash inside libhdf5. Each hostile file is a synthetic
// recording (recording_fixture.h) mutated at one place by the test.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "analysis/merge_analysis.h"
#include "cache/slot_map.h"
#include "io/recording_check.h"
#include "io/recording_reader.h"
#include "model/hostile_recording_edits.h"
#include "recording_fixture.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs::test {
namespace {

// recordingConfig(): 3 layers, 4 query heads, 2 KV heads, head dim 8.
constexpr int kPrompt = 12, kDecoded = 20, kTokens = kPrompt + kDecoded;

std::string record(const TempDir& dir, const std::string& name, bool withVariant = false) {
  RecordingOptions o;
  o.path = dir.file(name);
  o.values = true;
  o.attention = true;
  const ModelConfig c = recordingConfig();
  Hdf5Recorder r(o, recordingMeta(c, kPrompt));
  recordForward(r, c, 0, kPrompt);
  for (int i = 0; i < kDecoded; ++i) recordForward(r, c, kPrompt + i, 1);
  SlotMap map;
  map.reset(c.nLayers, c.nKvHeads);
  for (auto& layer : map.slots) {
    for (auto& head : layer)
      head = {Slot::token(0), Slot::token(1), Slot::token(2), Slot::token(3)};
  }
  if (withVariant) {
    RecordedVariant v;
    v.name = "full";
    v.generatedIds = {1, 2, 3};
    v.slotMap = &map;
    v.figures = "{}";
    r.addVariant(v);
  }
  r.finish();
  return o.path;
}

using test::errorOf;

TEST(RecordingCheck, SignalInTheChildIsReportedAndTheParentLives) {
  const ChildOutcome o = runInChildProcess([] { ::raise(SIGSEGV); }, 20);
  EXPECT_EQ(o.kind, ChildOutcome::Kind::kSignal);
  EXPECT_EQ(o.signal, SIGSEGV);
}

TEST(RecordingCheck, StuckChildIsKilledAtTheTimeLimit) {
  const auto start = std::chrono::steady_clock::now();
  const ChildOutcome o = runInChildProcess([] { ::pause(); }, 0.3);
  EXPECT_EQ(o.kind, ChildOutcome::Kind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(RecordingCheck, ErrorsAndCancellingComeBack) {
  const ChildOutcome o = runInChildProcess([] { throw KvsError("the file says no"); }, 20);
  EXPECT_EQ(o.kind, ChildOutcome::Kind::kError);
  EXPECT_EQ(o.message, "the file says no");
  EXPECT_EQ(runInChildProcess([] {}, 20).kind, ChildOutcome::Kind::kOk);
  EXPECT_EQ(errorOf([] { runInChildProcess([] { ::pause(); }, 20, [] { return false; }); }),
            "cancelled");
}

TEST(RecordingCheck, CrashInsideLibhdf5BecomesAnError) {
  TempDir dir;
  const std::string good = record(dir, "good.h5", true);
  EXPECT_EQ(errorOf([&] { checkRecording(good); }), "(no error)");
  const size_t heap = firstGlobalHeap(good);
  ASSERT_NE(heap, std::string::npos);
  flipBits(good, heap + 31, 0x80);  // the length of the first string (the root's `format`)
  EXPECT_NE(errorOf([&] { checkRecording(good); }).find("is corrupt (libhdf5 crashed reading it"),
            std::string::npos);
}

// Layer 1's keys hold 8 of the 32 positions its extent declares (the other chunks were never
// written, as when a disk fills up): T counts what every layer holds, and the gap is named.
TEST(HostileRecordings, UnwrittenChunksAreNotCountedAsStates) {
  TempDir dir;
  const std::string file = record(dir, "cut.h5");
  const ModelConfig c = recordingConfig();
  {
    H5::H5File f(file, H5F_ACC_RDWR);
    f.unlink("layers/layer_01/keys");
    const hsize_t shape[3] = {2, kTokens, 8}, unlimited[3] = {2, H5S_UNLIMITED, 8};
    const hsize_t chunk[3] = {2, 4, 8}, written[3] = {2, 8, 8}, origin[3] = {0, 0, 0};
    H5::DSetCreatPropList properties;
    properties.setChunk(3, chunk);
    H5::DataSet d = f.createDataSet("layers/layer_01/keys", H5::PredType::IEEE_F32LE,
                                    H5::DataSpace(3, shape, unlimited), properties);
    h5::writeDims(d, {"kv_head", "token", "head_dim"});
    const at::Tensor first = syntheticStates(c, 1, 1, 0, 8).contiguous();
    H5::DataSpace space = d.getSpace();
    space.selectHyperslab(H5S_SELECT_SET, written, origin);
    d.write(first.data_ptr<float>(), H5::PredType::NATIVE_FLOAT, H5::DataSpace(3, written), space);
  }
  const RecordingReader reader(file);
  EXPECT_EQ(reader.info().tokens, 8);
  ASSERT_EQ(reader.info().missing.size(), 1u);
  EXPECT_EQ(reader.info().missing[0], "the states of positions 8-31 in some layers");
  EXPECT_TRUE(reader.states(StateSource::kKeys, 1).equal(syntheticStates(c, 1, 1, 0, 8)));
}

// Values lost from one layer: the other sources stay readable and the loss is named (reading
// them failed inside HDF5).
TEST(HostileRecordings, SourceMissingFromSomeLayersIsDropped) {
  TempDir dir;
  const std::string file = record(dir, "values.h5");
  unlinkObject(file, "layers/layer_02/values");
  const RecordingReader reader(file);
  EXPECT_FALSE(reader.has(StateSource::kValues));
  EXPECT_EQ(reader.info().missing, std::vector<std::string>{"the values of layer 2"});
  EXPECT_EQ(reader.states(StateSource::kKeys, 2).size(1), kTokens);
}

// Slot columns declaring 10^12 rows (never written) are refused before anything is allocated
// for them (it threw std::bad_alloc, or allocated terabytes).
TEST(HostileRecordings, HugeSlotTableIsRefusedBeforeAllocating) {
  TempDir dir;
  const std::string file = record(dir, "slots.h5", true);
  {
    H5::H5File f(file, H5F_ACC_RDWR);
    for (const char* column : {"layer", "head", "first", "last", "pivot", "count", "attention"}) {
      const std::string where = std::string("variants/full/slots/") + column;
      const H5::DataType type = f.openDataSet(where).getDataType();
      f.unlink(where);
      const hsize_t rows = 1000000000000ull, unlimited = H5S_UNLIMITED, chunk = 1024;
      H5::DSetCreatPropList properties;
      properties.setChunk(1, &chunk);
      f.createDataSet(where, type, H5::DataSpace(1, &rows, &unlimited), properties);
    }
  }
  const RecordingReader reader(file);
  EXPECT_NE(errorOf([&] { reader.variant("full"); }).find("the slot column layer is cut short"),
            std::string::npos);
}

TEST(HostileRecordings, NonFiniteAttentionIsRefused) {
  TempDir dir;
  const std::string file = record(dir, "nan.h5");
  writeValue(file, "layers/layer_01/attention", 3, 2, 1, std::numeric_limits<float>::infinity());
  const RecordingReader reader(file);
  EXPECT_NE(errorOf([&] {
              reader.attention(1);
            }).find("the attention of layer 1 in " + file + " holds NaN or infinite values"),
            std::string::npos);
}

// A head count of 0 raised SIGFPE (integer division) before any check.
TEST(HostileRecordings, AccumulatedAttentionRefusesZeroKvHeads) {
  const at::Tensor probs = at::full({4, 3, 3}, 1.0f / 3);
  EXPECT_THROW(accumulatedAttention(probs, 0), c10::Error);
  EXPECT_EQ(accumulatedAttention(probs, 2).size(), 2u);
}

}  // namespace
}  // namespace kvs::test
