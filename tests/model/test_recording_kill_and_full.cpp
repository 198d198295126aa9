// generate --record killed (SIGKILL) at any moment leaves no file or a readable one, and a
// recording cut short by a full disk says how many tokens it holds, as the file does.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_runner.h"
#include "io/recording_reader.h"

namespace kvs::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool folderIsEmpty(const std::string& folder) {
  std::error_code ec;
  return fs::directory_iterator(folder, ec) == fs::directory_iterator();
}

// Starts `generate --record path`, waits until a file appears in path's folder (the recording or
// its temporary), and kills the process `delay` later. Returns false when the process ended
// before it was killed. Bounded: at most 20 s of waiting.
bool killRecordingRun(const std::string& path, std::chrono::microseconds delay,
                      const std::string& flushInterval) {
  const std::string model = modelPath("stories260K.bin");
  const pid_t child = fork();
  if (child == 0) {
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    execl(KVS_CLI_PATH, "kvstudio-cli", "generate", "--model", model.c_str(), "--prompt",
          "Once upon a time", "--temperature", "0", "--steps", "300", "--record-values",
          "--record-flush-interval", flushInterval.c_str(), "--record", path.c_str(), nullptr);
    _exit(127);
  }
  const std::string folder = fs::path(path).parent_path().string();
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  int status = 0;
  while (folderIsEmpty(folder)) {
    if (waitpid(child, &status, WNOHANG) == child) return false;
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  std::this_thread::sleep_for(delay);
  kill(child, SIGKILL);
  waitpid(child, &status, 0);
  return WIFSIGNALED(status);
}

// Case 3: 16 of 128 kills landing 1-2 ms after the file was created left a file that did not open
// (0 bytes, "truncated file: eof = 96 ... stored_eof = 2048", "bad object header version").
TEST(RecordingKills, KilledRunLeavesNoFileOrAReadableOne) {
  TempDir dir;
  int readable = 0, absent = 0, temporaries = 0;
  for (int i = 0; i < 30; ++i) {
    // Dense over the first 3 ms after the file appears (creation), then every 4.3 ms up to 80 ms.
    const auto delay = std::chrono::microseconds(i < 12 ? i * 250 : 3000 + (i - 12) * 4300);
    SCOPED_TRACE("kill " + std::to_string(i) + " at " + std::to_string(delay.count()) + " us");
    const std::string folder = dir.file("run" + std::to_string(i));
    fs::create_directory(folder);
    const std::string path = folder + "/k.h5";
    killRecordingRun(path, delay, i % 2 ? "0" : "0.05");
    for (const auto& entry : fs::directory_iterator(folder)) {
      const std::string name = entry.path().filename().string();
      if (name == "k.h5") continue;
      // The only thing a kill may leave besides the recording: its temporary, named for it.
      EXPECT_EQ(name.rfind("k.h5.part-", 0), 0u) << "left behind: " << name;
      ++temporaries;
    }
    if (!fs::exists(path)) {
      ++absent;
      continue;
    }
    try {
      const RecordingReader reader(path);
      EXPECT_LE(reader.info().tokens, int(reader.info().tokenIds.size()));
      ++readable;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the killed run left a file that does not open: " << e.what();
    }
  }
  // The kills must have spanned the file's creation: some before it, some after.
  EXPECT_GT(readable, 5);
  RecordProperty("absent", absent);
  RecordProperty("temporaries", temporaries);
}

// Case 4: the disk filled up before the first flush; the run said "holds 0 tokens" while the file
// held the prompt and every block written since. A file-size limit stands in for the full disk;
// flushes are rare (10 s), so only the writes themselves put tokens in the file: the prompt of
// 421 tokens is written at once, the decoded tokens no longer fit.
TEST(RecordingKills, DiskFullMidRunReportsWhatTheFileHolds) {
  std::string prompt;
  for (int i = 0; i < 20; ++i)
    prompt += "Lily and Tom went to the park to play with a big red ball. ";
  int stoppedMidRun = 0;
  for (int kib : {3950, 4000, 4050}) {
    SCOPED_TRACE("ulimit -f " + std::to_string(kib));
    TempDir dir;
    const std::string file = dir.file("full.h5");
    const CliRun r =
        runCliCommand("generate --model " + modelPath("stories260K.bin") + " --prompt '" + prompt +
                          "' --temperature 0 --steps 500 --json --record-values "
                          "--record-flush-interval 10 --record " +
                          file,
                      "ulimit -f " + std::to_string(kib) + "; trap '' XFSZ;");
    if (r.exitCode == 0) continue;      // the limit held the whole recording
    ASSERT_EQ(r.exitCode, 1) << r.err;  // the generation went on and is printed
    ASSERT_NE(r.err.find("disk full"), std::string::npos) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j["generated_token_ids"].size(), 0u);
    const RecordingReader reader(file);
    EXPECT_FALSE(reader.info().complete);
    const int held = reader.info().tokens;
    EXPECT_GE(held, int(j["prompt_token_ids"].size()));
    EXPECT_EQ(j["recording"]["tokens"].get<int>(), held);
    EXPECT_NE(r.err.find("the file holds " + std::to_string(held) + " tokens"), std::string::npos)
        << r.err << "the file holds " << held;
    ++stoppedMidRun;
  }
  EXPECT_GT(stoppedMidRun, 0) << "no limit stopped the recording mid-run";
}

}  // namespace
}  // namespace kvs::test
