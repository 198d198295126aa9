// `kvstudio-cli analyze` on recordings that are corrupt, cut short or hostile, and on output paths
// it must not replace. Every hostile file is a fresh recording of stories260K mutated by the test
// at one stated place (hostile_recording_edits.h). Each case ends in a one-line error and exit 2,
// or in a documented result with a note saying what the file lacks: never a crash, a hang, an
// allocation sized by a damaged header, or NaN printed without a word.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "cli_runner.h"
#include "hostile_recording_edits.h"

namespace kvs::test {
namespace {

namespace fs = std::filesystem;

// Stories260K: 5 layers, 8 query heads, 4 KV heads, head dim 8. The prompt has 17 tokens; the
// states cover 40 positions (--steps 40), token_ids 41 (with the last sampled token).
const std::string kPrompt = "Once upon a time there was a little girl named Lily who";
constexpr int kPromptTokens = 17;

const std::string& goodRecording() {
  static TempDir dir;
  static const std::string path = [] {
    const std::string file = dir.file("good.h5");
    const CliRun r =
        runCliCommand("generate --model " + modelPath("stories260K.bin") + " --prompt '" + kPrompt +
                      "' --temperature 0 --steps 40 --record-attention --record " + file);
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return file;
  }();
  return path;
}

std::string copyOfGood(const TempDir& dir, const std::string& name) {
  const std::string path = dir.file(name);
  fs::copy_file(goodRecording(), path);
  return path;
}

// Runs `kvstudio-cli analyze ARGS` without core files and with a CPU-time limit (a case that
// allocated for minutes is killed, not waited for). KVS_CLI_UNDER_TEST names another build to
// run instead (how each case was seen to fail before the fix): a shell function named exec
// takes the place of runCliCommand's exec and keeps its redirections.
CliRun analyze(const std::string& args) {
  std::string prefix = "ulimit -c 0; ulimit -t 30;";
  if (const char* other = std::getenv("KVS_CLI_UNDER_TEST")) {
    prefix += " exec() { shift; builtin exec '" + std::string(other) + "' \"$@\"; };";
  }
  return runCliCommand("analyze " + args, prefix);
}

// One line on stderr, "kvstudio-cli: error: ...", exit code 2, naming `text`.
void expectCleanError(const CliRun& r, const std::string& text) {
  EXPECT_EQ(r.exitCode, 2) << r.err;
  const size_t at = r.err.find("kvstudio-cli: error: ");
  ASSERT_NE(at, std::string::npos) << r.err;
  EXPECT_TRUE(at == 0 || r.err[at - 1] == '\n') << "the error does not start a line:\n" << r.err;
  const std::string line = r.err.substr(at);
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "not one line:\n" << r.err;
  EXPECT_NE(line.find(text), std::string::npos) << r.err;
}

const std::string kKeys0 = "layers/layer_00/keys";
const std::vector<std::string> kStateDims = {"kv_head", "token", "head_dim"};

// Case 1: a bit flip in the global heap (the first object's length, 31 bytes in) made libhdf5
// segfault while reading the `format` string attribute. The file is read in a child process
// first, so the crash becomes a message.
TEST(HostileAnalyze, CrashInsideLibhdf5IsReported) {
  TempDir dir;
  const std::string file = copyOfGood(dir, "heap.h5");
  const size_t heap = firstGlobalHeap(file);
  ASSERT_NE(heap, std::string::npos);
  flipBits(file, heap + 31, 0x80);
  expectCleanError(analyze(file + " --layer 0 --adjacent " + dir.file("a.csv")),
                   "is corrupt (libhdf5 crashed reading it: signal ");
  EXPECT_FALSE(fs::exists(dir.file("a.csv")));
}

// Case 2: every dimension is checked against /meta model_config before anything is allocated.
TEST(HostileAnalyze, DamagedDimensionsAreNamed) {
  TempDir dir;
  const int T = 40;
  const auto allLayers = [&](const std::string& file, const std::vector<hsize_t>& shape) {
    for (int l = 0; l < 5; ++l) {
      replaceWithUnwritten(file, "layers/layer_0" + std::to_string(l) + "/keys", shape, kStateDims);
    }
  };
  const struct {
    std::string name;
    std::function<void(const std::string&)> edit;
    std::string message;
  } cases[] = {
      {"zero heads",
       [&](const std::string& f) {
         allLayers(f, {0, hsize_t(T), 8});
       },
       "layer_00/keys has 0 KV heads"},
      {"zero head dim",
       [&](const std::string& f) {
         allLayers(f, {4, hsize_t(T), 0});
       },
       "layer_00/keys has 0 head dims"},
      {"a million heads",
       [&](const std::string& f) {
         allLayers(f, {1000000, hsize_t(T), 8});
       },
       "has 1000000 KV heads"},
      {"four million heads",
       [&](const std::string& f) {
         replaceWithUnwritten(f, kKeys0, {4000000, 17, 8}, kStateDims);
       },
       "has 4000000 KV heads"},
      {"2^32 + 4 heads",
       [&](const std::string& f) {
         allLayers(f, {(1ull << 32) + 4, hsize_t(T), 8});
       },
       "has 4294967300 KV heads"},
      {"dims contradict the shape",
       [&](const std::string& f) {
         setDims(f, kKeys0, {"token", "kv_head", "head_dim"});
       },
       "says its axes are (token, kv_head, head_dim)"},
      {"7 query heads for 4 KV heads",
       [&](const std::string& f) {
         replaceWithValues(f, "layers/layer_00/attention", {7, 17, 17}, {"q_head", "query", "key"},
                           1.0f / 17);
       },
       "layer_00/attention has 7 query heads"},
      {"NaN keys",
       [&](const std::string& f) { writeValue(f, "layers/layer_02/keys", 1, 5, 3, NAN); },
       "the keys of layer 2 in"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = copyOfGood(dir, "dims.h5");
    c.edit(file);
    const std::string csv = dir.file("s.csv");
    expectCleanError(analyze(file + " --layer 0 --sets " + csv), c.message);
    EXPECT_FALSE(fs::exists(csv));
    fs::remove(file);
  }
}

// Case 2: a file without token pieces is analysed; the pieces it lacks are written as "?" and
// said so (it segfaulted).
TEST(HostileAnalyze, MissingTokenPiecesAreShownAsQuestionMarks) {
  TempDir dir;
  const std::string file = copyOfGood(dir, "pieces.h5");
  emptyTokenDataset(file, "meta/token_pieces");
  const CliRun r = analyze(file + " --layer 0 --adjacent " + dir.file("a.csv"));
  ASSERT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("it lacks the token pieces of positions 0-40 (shown as ?)"),
            std::string::npos)
      << r.err;
  const std::string csv = readFile(dir.file("a.csv"));
  EXPECT_NE(csv.find("\n0,\"?\",\"?\","), std::string::npos) << csv;
}

// Case 3: a file cut short (it says it is incomplete) is analysed as far as it goes, and the note
// names what it lacks.
TEST(HostileAnalyze, CutRecordingSaysWhatItLacks) {
  TempDir dir;
  const std::string noAttention = copyOfGood(dir, "cut_attention.h5");
  markIncomplete(noAttention);
  unlinkObject(noAttention, "layers/layer_04/attention");
  const CliRun a = analyze(noAttention);
  ASSERT_EQ(a.exitCode, 0) << a.err;
  EXPECT_NE(a.err.find("is incomplete (the recording was interrupted); it lacks the attention of "
                       "layer 4; analysing the 40 tokens it holds"),
            std::string::npos)
      << a.err;

  // No token ids at all, while the keys hold 40 positions (it said "holds 0 tokens").
  const std::string noIds = copyOfGood(dir, "cut_ids.h5");
  markIncomplete(noIds);
  emptyTokenDataset(noIds, "meta/token_ids");
  const CliRun b = analyze(noIds);
  ASSERT_EQ(b.exitCode, 0) << b.err;
  EXPECT_NE(b.err.find("it lacks the token ids of positions 0-39; analysing the 40 tokens"),
            std::string::npos)
      << b.err;
  EXPECT_NE(b.out.find(std::to_string(kPromptTokens) + " prompt tokens"), std::string::npos)
      << b.out;
}

// Case 4: outputs are checked before any work and are never replaced without --force, never a
// device, a link or an input.
TEST(HostileAnalyze, OutputsAreNeverReplacedUnasked) {
  TempDir dir;
  const std::string file = goodRecording();
  const std::string existing = dir.file("old.csv");
  writeFile(existing, "keep me");
  for (const char* flag : {"--similarity", "--adjacent", "--sets", "--ratios"}) {
    SCOPED_TRACE(flag);
    expectCleanError(analyze(file + " " + flag + " " + existing),
                     "already exists; pass --force to replace it");
    EXPECT_EQ(readFile(existing), "keep me");
  }
  // Checked before the recording is read: a damaged recording does not hide the output error.
  expectCleanError(analyze(dir.file("missing.h5") + " --sets " + existing), "already exists");
  expectCleanError(analyze("--batch " + file + " --ratios " + existing), "already exists");

  const std::string link = dir.file("link.csv");
  fs::create_symlink(existing, link);
  expectCleanError(analyze(file + " --sets " + link + " --force"), "is a symbolic link");
  EXPECT_EQ(readFile(existing), "keep me");
  EXPECT_TRUE(fs::is_symlink(link));
  expectCleanError(analyze(file + " --sets /dev/null --force"), "is a device");
  expectCleanError(analyze(file + " --sets " + file + " --force"), "which this run reads");
  expectCleanError(
      analyze(file + " --sets " + dir.file("x.csv") + " --ratios " + dir.file("x.csv")),
      "--sets and --ratios both name");

  const CliRun forced = analyze(file + " --sets " + existing + " --force");
  ASSERT_EQ(forced.exitCode, 0) << forced.err;
  EXPECT_EQ(readFile(existing).rfind("layer,head,set,first,last,size,protected\n", 0), 0u);
}

// Case 5: an error met while the batch progress line is on screen starts a line of its own.
TEST(HostileAnalyze, BatchErrorStartsOnANewLine) {
  TempDir dir;
  const std::string bad = copyOfGood(dir, "bad.h5");
  writeValue(bad, "layers/layer_01/keys", 0, 0, 0, NAN);
  const CliRun r = analyze("--batch " + goodRecording() + " " + bad);
  expectCleanError(r, "the keys of layer 1 in " + bad + " hold NaN");
  EXPECT_NE(r.err.find("1/2 recordings\n"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace kvs::test
