// Mutants of a good llama2.c checkpoint, Hugging Face folder, tokenizer model and recording,
// given to kvstudio-cli: every run must end by itself (no hang) with exit 0 or 2 (a clean
// one-line error), never a signal. Seeded and bounded: KVS_FUZZ_SEED (default 20261129) and
// KVS_FUZZ_CASES (mutants per kind, default 40) choose them; a failure prints the seed and the
// case so it can be replayed, and keeps the mutant under the system temp folder.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "test_util.h"

namespace kvs::test {
namespace {

namespace fs = std::filesystem;

uint64_t envOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : fallback;
}

const uint64_t kSeed = envOr("KVS_FUZZ_SEED", 20261129);
const int kCases = static_cast<int>(envOr("KVS_FUZZ_CASES", 40));

// Runs kvstudio-cli (or the build KVS_CLI_UNDER_TEST names, e.g. an older one to show what the
// fuzzer finds there) killed after 30 s; 124/137 (timeout) and 128+N (signal) are failures.
int runCli(const std::string& args) {
  const char* other = std::getenv("KVS_CLI_UNDER_TEST");
  const std::string cli = other && *other ? other : KVS_CLI_PATH;
  const std::string cmd =
      "timeout -s KILL 30 " + cli + " " + args + " > /dev/null 2>&1 < /dev/null";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One mutation of `bytes`: flips, overwrites with boundary values, truncation or extension,
// most of them inside the first `hot` bytes (headers), the rest anywhere.
std::string mutate(std::string bytes, std::mt19937_64& rng, size_t hot) {
  auto where = [&](bool inHot) {
    const size_t span = inHot ? std::min(hot, bytes.size()) : bytes.size();
    return std::uniform_int_distribution<size_t>(0, span - 1)(rng);
  };
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !bytes.empty(); ++e) {
    const bool inHot = rng() % 4 != 0;
    switch (rng() % 6) {
      case 0:
      case 1:
        bytes[where(inHot)] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 2: {
        static const unsigned char values[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe};
        bytes[where(inHot)] = static_cast<char>(values[rng() % 6]);
        break;
      }
      case 3: {  // a 4-byte little-endian integer set to a boundary value
        static const uint32_t values[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 1000000};
        const size_t at = where(inHot);
        const uint32_t v = values[rng() % 6];
        for (size_t i = 0; i < 4 && at + i < bytes.size(); ++i) bytes[at + i] = char(v >> (8 * i));
        break;
      }
      case 4:
        bytes.resize(where(rng() % 2 == 0));
        break;
      default:
        bytes.append(1 + rng() % 64, static_cast<char>(rng()));
        break;
    }
  }
  return bytes;
}

class Fuzz : public ::testing::Test {
 protected:
  TempDir dir;
  std::mt19937_64 rng{kSeed};

  // Runs every command on each mutant of `good` (written to `target`); `restore` puts the good
  // file back after each case.
  void fuzz(const std::string& kind, const std::string& good, const std::string& target, size_t hot,
            const std::vector<std::string>& commands) {
    const std::string bytes = readFile(good);
    ASSERT_FALSE(bytes.empty()) << good;
    rng.seed(kSeed ^ std::hash<std::string>{}(kind));
    for (int c = 0; c < kCases; ++c) {
      writeFile(target, mutate(bytes, rng, hot));
      for (const std::string& command : commands) {
        const int code = runCli(command);
        if (code != 0 && code != 2) {
          const fs::path kept =
              fs::temp_directory_path() / ("kvs-fuzz-" + kind + "-" + std::to_string(c) + "-" +
                                           fs::path(target).filename().string());
          std::error_code ec;
          fs::copy_file(target, kept, fs::copy_options::overwrite_existing, ec);
          ADD_FAILURE() << kind << " case " << c << " (KVS_FUZZ_SEED=" << kSeed << "): `" << command
                        << "` exited " << code
                        << (code == 137 || code == 124 ? " (hung: killed after 30 s)" : "")
                        << "; mutant kept as " << kept;
        }
      }
    }
    writeFile(target, bytes);
  }
};

const std::string kTok = modelPath("tok512.model");

TEST_F(Fuzz, Llama2cCheckpoints) {
  const std::string bin = dir.file("m.bin");
  fuzz("llama2c", modelPath("stories260K.bin"), bin, 28,
       {"info --model " + bin,
        "generate --model " + bin + " --tokenizer " + kTok + " --prompt hi --steps 6"});
}

TEST_F(Fuzz, HuggingFaceFolders) {
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  HfExportOptions options;
  options.tokenizerPath = kTok;
  const std::string folder = dir.file("hf");
  writeHfCheckpoint(folder, bin.config, bin.weights, options);
  const std::string good = dir.file("good.safetensors"), config = dir.file("good_config.json");
  fs::copy_file(folder + "/model.safetensors", good);
  fs::copy_file(folder + "/config.json", config);
  const std::vector<std::string> run = {"info --model " + folder,
                                        "generate --model " + folder + " --prompt hi --steps 6"};
  fuzz("safetensors", good, folder + "/model.safetensors", 1024, run);
  fuzz("config", config, folder + "/config.json", 4096, run);
}

TEST_F(Fuzz, TokenizerModels) {
  const std::string model = dir.file("t.model");
  fuzz("tokenizer", kTok, model, 512, {"tokenize --tokenizer " + model + " --text 'Once upon'"});
}

TEST_F(Fuzz, Recordings) {
  const std::string good = dir.file("good.h5");
  ASSERT_EQ(runCli("generate --model " + modelPath("stories260K.bin") +
                   " --prompt 'Once upon a time' --steps 12 --temperature 0 --record " + good +
                   " --record-values --record-attention --method kvmerger"),
            0);
  const std::string rec = dir.file("r.h5"), out = dir.file("adjacent.csv");
  fuzz("recording", good, rec, 4096,
       {"analyze " + rec, "analyze " + rec + " --layer 0 --adjacent " + out + " --force"});
}

}  // namespace
}  // namespace kvs::test
