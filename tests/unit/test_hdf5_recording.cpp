// Recording to HDF5 and reading back: exact round trip, appends equal a one-shot recording,
// float16 storage, overwrite protection, interrupted (killed) recordings, foreign and damaged
// files, and readability by h5dump and by the h5py snippet of the schema document.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cache/slot_map.h"
#include "io/h5_util.h"
#include "io/recording_reader.h"
#include "recording_fixture.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs::test {
namespace {

RecordingOptions allSources(const std::string& path) {
  RecordingOptions o;
  o.path = path;
  o.keysPrerope = true;
  o.values = true;
  o.attention = true;
  return o;
}

void expectErrorContains(const std::function<void()>& f, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing: " << text;
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

// Prefill of P tokens then `decode` one-token steps.
void recordRun(const RecordingOptions& o, int P, int decode, bool finish = true,
               std::vector<at::Tensor>* attention = nullptr) {
  const ModelConfig c = recordingConfig();
  Hdf5Recorder r(o, recordingMeta(c, P));
  recordForward(r, c, 0, P, attention);
  for (int i = 0; i < decode; ++i) recordForward(r, c, P + i, 1);
  ASSERT_TRUE(r.ok()) << r.error();
  if (finish) r.finish();
  ASSERT_TRUE(r.ok()) << r.error();
}

TEST(Hdf5Recording, RoundTripIsExact) {
  TempDir dir;
  const std::string path = dir.path() + "/run.h5";
  std::vector<at::Tensor> attention;
  recordRun(allSources(path), 12, 7, true, &attention);

  const RecordingReader reader(path);
  const RecordingInfo& info = reader.info();
  const ModelConfig c = recordingConfig();
  EXPECT_TRUE(info.complete);
  EXPECT_EQ(info.layers, c.nLayers);
  EXPECT_EQ(info.kvHeads, c.nKvHeads);
  EXPECT_EQ(info.headDim, c.headDim());
  EXPECT_EQ(info.tokens, 19);            // 12 prompt + 7 decoded positions
  ASSERT_EQ(info.tokenIds.size(), 20u);  // and the last sampled token
  for (int p = 0; p < 20; ++p) {
    EXPECT_EQ(info.tokenIds[p], p % 100);
    EXPECT_EQ(info.tokenPieces[p], "piece" + std::to_string(p));
  }
  EXPECT_EQ(info.prompt, "Once upon a time ✓");
  EXPECT_EQ(info.promptTokens, 12);
  EXPECT_EQ(info.seed, 42);
  EXPECT_EQ(info.stateDtype, "float32");
  EXPECT_EQ(nlohmann::json::parse(info.modelConfigJson)["n_kv_heads"], 2);
  EXPECT_EQ(nlohmann::json::parse(info.settingsJson)["steps"], 64);
  EXPECT_EQ(info.checkpointSha256, std::string(64, 'a'));
  for (int l = 0; l < c.nLayers; ++l) {
    EXPECT_TRUE(reader.states(StateSource::kKeysPrerope, l).equal(syntheticStates(c, l, 0, 0, 19)));
    EXPECT_TRUE(reader.states(StateSource::kKeys, l).equal(syntheticStates(c, l, 1, 0, 19)));
    EXPECT_TRUE(reader.states(StateSource::kValues, l).equal(syntheticStates(c, l, 2, 0, 19)));
    EXPECT_TRUE(reader.states(StateSource::kKeys, l, 1).equal(syntheticStates(c, l, 1, 0, 19)[1]));
    EXPECT_TRUE(reader.attention(l).equal(attention[l]));
  }
}

TEST(Hdf5Recording, AppendsEqualOneShotRecording) {
  TempDir dir;
  const ModelConfig c = recordingConfig();
  recordRun(allSources(dir.path() + "/steps.h5"), 5, 30);
  {
    Hdf5Recorder once(allSources(dir.path() + "/once.h5"), recordingMeta(c, 35));
    recordForward(once, c, 0, 35);
    once.finish();
  }
  const RecordingReader steps(dir.path() + "/steps.h5"), once(dir.path() + "/once.h5");
  ASSERT_EQ(steps.info().tokens, 35);
  ASSERT_EQ(once.info().tokens, 35);
  for (int l = 0; l < c.nLayers; ++l) {
    for (StateSource s : {StateSource::kKeys, StateSource::kKeysPrerope, StateSource::kValues}) {
      EXPECT_TRUE(steps.states(s, l).equal(once.states(s, l))) << toString(s) << " layer " << l;
    }
  }
}

TEST(Hdf5Recording, Float16StorageRoundsLikeLibTorch) {
  TempDir dir;
  RecordingOptions o = allSources(dir.path() + "/half.h5");
  o.storage = StateStorage::kFloat16;
  o.deflateLevel = 4;
  recordRun(o, 9, 4);
  const RecordingReader reader(o.path);
  EXPECT_EQ(reader.info().stateDtype, "float16");
  const ModelConfig c = recordingConfig();
  for (int l = 0; l < c.nLayers; ++l) {
    const at::Tensor expected = syntheticStates(c, l, 1, 0, 13).to(at::kHalf).to(at::kFloat);
    EXPECT_TRUE(reader.states(StateSource::kKeys, l).equal(expected)) << "layer " << l;
  }
}

TEST(Hdf5Recording, OnlyKeysUnlessAsked) {
  TempDir dir;
  RecordingOptions o;
  o.path = dir.path() + "/keys.h5";
  recordRun(o, 4, 2);
  const RecordingReader reader(o.path);
  EXPECT_TRUE(reader.has(StateSource::kKeys));
  EXPECT_FALSE(reader.has(StateSource::kValues));
  EXPECT_FALSE(reader.info().hasAttention);
  expectErrorContains([&] { reader.states(StateSource::kValues, 0); }, "--record-values");
  expectErrorContains([&] { reader.attention(0); }, "--record-attention");
  expectErrorContains([&] { reader.states(StateSource::kKeys, 3); }, "layers 0-2");
  expectErrorContains([&] { reader.states(StateSource::kKeys, 0, 2); }, "KV heads 0-1");
}

TEST(Hdf5Recording, AttentionIsSkippedAboveItsLimit) {
  TempDir dir;
  RecordingOptions o = allSources(dir.path() + "/long.h5");
  o.attentionMaxTokens = 8;
  recordRun(o, 9, 1);
  EXPECT_FALSE(RecordingReader(o.path).info().hasAttention);
}

TEST(Hdf5Recording, VariantsKeepParametersAndSlotMap) {
  TempDir dir;
  const std::string path = dir.path() + "/variant.h5";
  const ModelConfig c = recordingConfig();
  SlotMap map;
  map.reset(c.nLayers, c.nKvHeads);
  map.head(0, 0) = {{0, 0, 0, 1, 1.5}, {1, 4, 2, 4, 0.25}};
  map.head(2, 1) = {{3, 3, 3, 1, 2.0}};
  {
    Hdf5Recorder r(allSources(path), recordingMeta(c, 4));
    recordForward(r, c, 0, 4);
    RecordedVariant v;
    v.name = "kvmerger_0.50";
    v.params.method = "kvmerger";
    v.params.budget = 0.5;
    v.generatedIds = {7, 8, 9};
    v.slotMap = &map;
    v.figures = R"({"kv_bytes": 1234})";
    r.addVariant(v);
    r.finish();
  }
  const RecordingReader reader(path);
  ASSERT_EQ(reader.info().variantNames, std::vector<std::string>{"kvmerger_0.50"});
  const VariantRecord v = reader.variant("kvmerger_0.50");
  EXPECT_EQ(v.method, "kvmerger");
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(v.paramsJson)["budget"].get<double>(), 0.5);
  EXPECT_EQ(nlohmann::json::parse(v.figuresJson)["kv_bytes"], 1234);
  EXPECT_EQ(v.generatedIds, (std::vector<int>{7, 8, 9}));
  ASSERT_EQ(v.slotMap.head(0, 0).size(), 2u);
  const Slot& s = v.slotMap.head(0, 0)[1];
  EXPECT_EQ(std::vector<int>({s.first, s.last, s.pivot, s.count}), std::vector<int>({1, 4, 2, 4}));
  EXPECT_DOUBLE_EQ(s.attention, 0.25);
  EXPECT_EQ(v.slotMap.head(2, 1).size(), 1u);
  EXPECT_TRUE(v.slotMap.head(1, 0).empty());
  expectErrorContains([&] { reader.variant("h2o"); }, "no variant 'h2o'");
}

TEST(Hdf5Recording, ExistingFileIsNotOverwrittenWithoutForce) {
  TempDir dir;
  const std::string path = dir.path() + "/keep.h5";
  { std::ofstream(path) << "precious"; }
  const ModelConfig c = recordingConfig();
  RecordingOptions o;
  o.path = path;
  expectErrorContains([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }, "pass --force");
  EXPECT_EQ(readFile(path), "precious");
  o.overwrite = true;
  recordRun(o, 3, 1);
  EXPECT_TRUE(RecordingReader(path).info().complete);
}

TEST(Hdf5Recording, UnwritablePathsAreNamed) {
  TempDir dir;
  const ModelConfig c = recordingConfig();
  RecordingOptions o;
  o.path = dir.path() + "/no/such/folder/run.h5";
  expectErrorContains([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }, "does not exist");
  o.path = dir.path();
  o.overwrite = true;
  expectErrorContains([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }, "it is a folder");
  o.path = "/proc/run.h5";
  expectErrorContains([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }, "cannot write");
}

TEST(Hdf5Recording, UnfinishedRecordingIsMarkedIncomplete) {
  TempDir dir;
  RecordingOptions o;
  o.path = dir.path() + "/cut.h5";
  recordRun(o, 6, 3, /*finish=*/false);
  const RecordingReader reader(o.path);
  EXPECT_FALSE(reader.info().complete);
  EXPECT_EQ(reader.info().tokens, 9);
}

// A child records step after step; the parent kills it (SIGKILL) at several moments. Every file
// must open, say it is incomplete, and hold exact states for every token it lists.
TEST(Hdf5Recording, KilledRecordingOpensWithEveryFinishedStep) {
  TempDir dir;
  const ModelConfig c = recordingConfig();
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const std::string path = dir.path() + "/killed" + std::to_string(round) + ".h5";
    int pipeFds[2];
    ASSERT_EQ(pipe(pipeFds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(pipeFds[0]);
      RecordingOptions o = allSources(path);
      o.flushIntervalSeconds = round < 3 ? 0 : 0.002;  // every token; or in blocks
      Hdf5Recorder r(o, recordingMeta(c, 16));
      recordForward(r, c, 0, 16);
      for (int pos = 16; pos < 500; ++pos) {
        recordForward(r, c, pos, 1);
        if (pos == 16 + 20 * (round + 1)) (void)!write(pipeFds[1], "x", 1);
      }
      _exit(0);  // never reached in time: the parent kills first, or the test fails below
    }
    close(pipeFds[1]);
    char byte;
    ASSERT_EQ(read(pipeFds[0], &byte, 1), 1);
    usleep(1000 * round);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    close(pipeFds[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the child finished before it was killed";

    const RecordingReader reader(path);
    EXPECT_FALSE(reader.info().complete);
    const int T = reader.info().tokens;
    // Flushing after every token keeps every step up to the signal; in blocks, the last block.
    EXPECT_GE(T, round < 3 ? 16 + 20 * (round + 1) : 16);
    EXPECT_LT(T, 500);
    for (int l = 0; l < c.nLayers; ++l) {
      EXPECT_TRUE(reader.states(StateSource::kKeys, l).equal(syntheticStates(c, l, 1, 0, T)));
      EXPECT_TRUE(reader.states(StateSource::kValues, l).equal(syntheticStates(c, l, 2, 0, T)));
    }
    for (int p = 0; p < T; ++p) ASSERT_EQ(reader.info().tokenIds[p], p % 100);
  }
}

// Records in a child process until the file cannot grow; returns the child's exit status.
int recordUntilFull(const std::string& path, const ModelConfig& c, int64_t fileSizeLimit) {
  const pid_t child = fork();
  if (child == 0) {
    if (fileSizeLimit > 0) {
      signal(SIGXFSZ, SIG_IGN);
      const rlimit limit{rlim_t(fileSizeLimit), rlim_t(fileSizeLimit)};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    Hdf5Recorder r(allSources(path), recordingMeta(c, 16));
    recordForward(r, c, 0, 16);
    int pos = 16;
    for (; pos < c.seqLen && r.ok(); ++pos) recordForward(r, c, pos, 1);
    r.finish();
    const bool stoppedForSpace =
        !r.ok() && pos < c.seqLen && (r.error().find("disk full") != std::string::npos);
    _exit(stoppedForSpace ? 0 : 3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return status;
}

// The recording stopped for lack of space: the process went on and exited normally, and the file
// opens, says it is incomplete, and holds exact states up to where it stopped.
void expectCleanStop(int status, const std::string& path, const ModelConfig& c) {
  ASSERT_TRUE(WIFEXITED(status)) << "the child crashed (signal " << WTERMSIG(status) << ")";
  ASSERT_EQ(WEXITSTATUS(status), 0) << "the recording did not stop for lack of space";
  const RecordingReader reader(path);
  EXPECT_FALSE(reader.info().complete);
  const int T = reader.info().tokens;
  EXPECT_GT(T, 100);
  EXPECT_LT(T, c.seqLen);
  for (int l = 0; l < c.nLayers; ++l) {
    EXPECT_TRUE(reader.states(StateSource::kKeys, l).equal(syntheticStates(c, l, 1, 0, T)));
  }
}

TEST(Hdf5Recording, FileSizeLimitMidRunStopsCleanly) {
  TempDir dir;
  ModelConfig c = recordingConfig();
  c.seqLen = 20000;
  const std::string path = dir.file("limited.h5");
  expectCleanStop(recordUntilFull(path, c, 3 << 20), path, c);  // 3 MiB: the start fits
}

// A real full disk: a 3 MiB tmpfs (needs permission to mount; skipped otherwise).
TEST(Hdf5Recording, DiskFullMidRunStopsCleanly) {
  TempDir dir;
  const std::string mountPoint = dir.file("small");
  std::filesystem::create_directory(mountPoint);
  if (mount("kvs-test", mountPoint.c_str(), "tmpfs", 0, "size=3m") != 0) {
    GTEST_SKIP() << "cannot mount a small tmpfs here (" << std::strerror(errno) << ")";
  }
  ModelConfig c = recordingConfig();
  c.seqLen = 20000;
  const std::string path = mountPoint + "/full.h5";
  const int status = recordUntilFull(path, c, 0);
  expectCleanStop(status, path, c);
  umount(mountPoint.c_str());
}

TEST(Hdf5Recording, ForeignAndDamagedFilesAreRefused) {
  TempDir dir;
  expectErrorContains([&] { RecordingReader(dir.path() + "/missing.h5"); }, "does not exist");
  const std::string text = dir.path() + "/text.h5";
  { std::ofstream(text) << "not hdf5 at all"; }
  expectErrorContains([&] { RecordingReader{text}; }, "is not an HDF5 file");

  const std::string foreign = dir.path() + "/foreign.h5";
  {
    H5::H5File f(foreign, H5F_ACC_TRUNC);
    const float x[3] = {1, 2, 3};
    h5::writeDataset(f, "data", H5::PredType::IEEE_F32LE, {3}, H5::PredType::NATIVE_FLOAT, x);
  }
  expectErrorContains([&] { RecordingReader{foreign}; }, "not a KV Studio recording");

  const std::string good = dir.path() + "/good.h5";
  RecordingOptions o;
  o.path = good;
  recordRun(o, 300, 10);
  const std::string content = readFile(good);
  const std::string truncated = dir.path() + "/truncated.h5";
  { std::ofstream(truncated, std::ios::binary) << content.substr(0, content.size() / 2); }
  try {
    const RecordingReader reader(truncated);
    for (int l = 0; l < reader.info().layers; ++l) reader.states(StateSource::kKeys, l);
    ADD_FAILURE() << "a truncated file read without error";
  } catch (const KvsError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }

  const std::string gap = dir.path() + "/gap.h5";
  RecordingOptions gapOptions;
  gapOptions.path = gap;
  recordRun(gapOptions, 5, 1);
  { H5::H5File(gap, H5F_ACC_RDWR).unlink("layers/layer_01"); }
  expectErrorContains([&] { RecordingReader{gap}; }, "missing /layers/layer_01");
}

TEST(Hdf5Recording, H5dumpReadsTheFile) {
  if (std::system("command -v h5dump >/dev/null 2>&1") != 0) GTEST_SKIP() << "no h5dump";
  TempDir dir;
  RecordingOptions o = allSources(dir.path() + "/dump.h5");
  o.storage = StateStorage::kFloat16;
  recordRun(o, 4, 1);
  const std::string out = dir.path() + "/dump.txt";
  ASSERT_EQ(std::system(("h5dump -d /layers/layer_00/keys -A 0 " + o.path + " > " + out).c_str()),
            0);
  const std::string dump = readFile(out);
  EXPECT_NE(dump.find("DATASPACE  SIMPLE { ( 2, 5, 8 ) / ( 2, H5S_UNLIMITED, 8 ) }"),
            std::string::npos)
      << dump.substr(0, 600);
  EXPECT_NE(dump.find("16-bit little-endian floating-point"), std::string::npos)
      << dump.substr(0, 600);
}

// The schema document's h5py example runs as written against a fresh recording.
TEST(Hdf5Recording, SchemaDocumentSnippetRunsWithH5py) {
  if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") != 0) {
    GTEST_SKIP() << "python3-h5py is not installed (.ci/setup.sh installs it)";
  }
  const std::string doc = readFile(std::string(KVS_SOURCE_DIR) + "/core/io/hdf5_schema.md");
  const auto begin = doc.find("```python\n");
  ASSERT_NE(begin, std::string::npos);
  const auto end = doc.find("```", begin + 10);
  TempDir dir;
  const std::string script = dir.path() + "/read.py";
  { std::ofstream(script) << doc.substr(begin + 10, end - begin - 10); }
  RecordingOptions o = allSources(dir.path() + "/run.h5");
  recordRun(o, 6, 3);
  const std::string out = dir.path() + "/out.txt";
  ASSERT_EQ(
      std::system(("/usr/bin/python3 " + script + " " + o.path + " > " + out + " 2>&1").c_str()), 0)
      << readFile(out);
  const std::string printed = readFile(out);
  EXPECT_NE(printed.find("complete: True"), std::string::npos) << printed;
  EXPECT_NE(printed.find("layer_00 keys (2, 9, 8)"), std::string::npos) << printed;
}

}  // namespace
}  // namespace kvs::test
