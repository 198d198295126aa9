// Hostile --record paths for generate and compare: the files the run reads (a llama2.c .bin, every
// file of a Hugging Face folder, the tokenizer, the prompts file) are never written over, even with
// --force; FIFOs and empty paths are refused before anything opens them; a path that cannot be
// written (missing folder, a path through a file, no space, a read-only place) stops the run before
// it generates. Each ends in one line on stderr and exit code 2. (Kills and a disk filling up
// mid-run: test_recording_kill_and_full.cpp.)

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>

#include "cli_runner.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"

namespace kvs::test {
namespace {

namespace fs = std::filesystem;

const std::string kGreedy = " --prompt 'Once upon a time' --temperature 0 --steps 40";

// runCliCommand with a hard time limit, so a run that blocks (opening a FIFO) fails the test
// instead of hanging it (exit code 137 then). `prefix` (e.g. "ulimit -f 0;") applies to the CLI
// only: its output goes through pipes, so a file-size limit never stops the messages themselves.
CliRun runCliBounded(const std::string& args, const std::string& prefix = "") {
  TempDir dir;
  writeFile(dir.file("run.sh"), "set -o pipefail\n{ ( " + prefix +
                                    "\nexec timeout -s KILL 20 " KVS_CLI_PATH " " + args +
                                    " 2>&3 ) < /dev/null | cat > " + dir.file("out") +
                                    "; } 3>&1 | cat > " + dir.file("err") + "\n");
  const int status = std::system(("bash " + dir.file("run.sh")).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
          readFile(dir.file("out")), readFile(dir.file("err"))};
}

// The refusal every case below expects: exit 2, nothing generated, one line naming the problem.
void expectRefused(const CliRun& r, const std::string& phrase) {
  EXPECT_EQ(r.exitCode, 2) << r.err;
  EXPECT_EQ(r.out, "") << "the run generated before refusing the recording path";
  EXPECT_NE(r.err.find(phrase), std::string::npos) << r.err;
  // Only "using tokenizer ..." may come before the error line.
  const auto errorLine = r.err.find("kvstudio-cli: error: ");
  ASSERT_NE(errorLine, std::string::npos) << r.err;
  EXPECT_EQ(r.err.find('\n', errorLine), r.err.size() - 1) << "not one line:\n" << r.err;
}

// stories260K exported as a Hugging Face folder, with its tokenizer.model.
std::string exportHfFolder(const TempDir& dir) {
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  HfExportOptions options;
  options.tokenizerPath = modelPath("tok512.model");
  const std::string folder = dir.file("stories-hf");
  writeHfCheckpoint(folder, bin.config, bin.weights, options);
  return folder;
}

// Case 1: --record over the checkpoint that is memory-mapped as the model destroyed it (SIGBUS).
TEST(HostileRecordingWrites, HfCheckpointFilesAreNeverOverwritten) {
  TempDir dir;
  const std::string folder = exportHfFolder(dir);
  for (const std::string name : {"model.safetensors", "config.json", "tokenizer.model"}) {
    const std::string target = folder + "/" + name;
    const std::string before = readFile(target);
    for (const std::string model : {folder, folder + "/config.json"}) {
      SCOPED_TRACE(name + " with --model " + model);
      expectRefused(
          runCliBounded("generate --model " + model + kGreedy + " --force --record " + target),
          "which this run reads");
      EXPECT_EQ(readFile(target), before) << target << " was changed";
    }
    expectRefused(runCliBounded("compare --model " + folder +
                                " --prompt 'Once upon a time' --methods kvmerger --budgets 0.5 "
                                "--force --record " +
                                target),
                  "which this run reads");
    EXPECT_EQ(readFile(target), before) << target << " was changed";
  }
}

TEST(HostileRecordingWrites, BinModelTokenizerAndPromptsFileAreNeverOverwritten) {
  TempDir dir;
  const std::string model = dir.file("model.bin"), tokenizer = dir.file("tok.model");
  fs::copy_file(modelPath("stories260K.bin"), model);
  fs::copy_file(modelPath("tok512.model"), tokenizer);
  fs::create_symlink(model, dir.file("alias.bin"));
  const std::string run = "generate --model " + model + " --tokenizer " + tokenizer + kGreedy;
  const std::string modelBytes = readFile(model), tokenizerBytes = readFile(tokenizer);
  expectRefused(runCliBounded(run + " --force --record " + model), "which this run reads");
  expectRefused(runCliBounded(run + " --force --record " + tokenizer), "which this run reads");
  // A hard link is the same file under another name.
  fs::create_hard_link(model, dir.file("linked.h5"));
  expectRefused(runCliBounded(run + " --force --record " + dir.file("linked.h5")),
                "which this run reads");
  // A symbolic link is never replaced (it would write through to the model).
  expectRefused(runCliBounded(run + " --force --record " + dir.file("alias.bin")), "symbolic link");
  EXPECT_EQ(readFile(model), modelBytes);
  EXPECT_EQ(readFile(tokenizer), tokenizerBytes);

  writeFile(dir.file("prompts.txt"), "Once upon a time\n");
  expectRefused(runCliBounded("compare --model " + model + " --prompts-file " +
                              dir.file("prompts.txt") + " --methods kvmerger --budgets 0.5 " +
                              "--force --record " + dir.file("prompts.txt")),
                "which this run reads");
  EXPECT_EQ(readFile(dir.file("prompts.txt")), "Once upon a time\n");
}

// Case 2: a FIFO was opened for writing and the run waited forever; an empty path was ignored.
TEST(HostileRecordingWrites, FifoAndEmptyPathAreRefusedAtOnce) {
  TempDir dir;
  const std::string fifo = dir.file("pipe.h5");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0644), 0);
  const std::string model = " --model " + modelPath("stories260K.bin");
  for (const std::string command : {"generate", "compare"}) {
    SCOPED_TRACE(command);
    const std::string run = command + model + " --prompt 'Once upon a time'";
    expectRefused(runCliBounded(run + " --force --record " + fifo), "is a FIFO");
    expectRefused(runCliBounded(run + " --record " + fifo), "is a FIFO");
    expectRefused(runCliBounded(run + " --record ''"), "recording file path is empty");
    expectRefused(runCliBounded(run + " --force --record " + dir.path()), "is a folder");
  }
  struct stat st {};
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

// Case 5: these ran the whole generation, then exited 1 without a recording.
TEST(HostileRecordingWrites, UnwritablePathsStopTheRunBeforeItGenerates) {
  TempDir dir;
  writeFile(dir.file("file.txt"), "a file, not a folder");
  const std::string model = " --model " + modelPath("stories260K.bin");
  for (const std::string command : {"generate", "compare"}) {
    SCOPED_TRACE(command);
    const std::string run = command + model + " --prompt 'Once upon a time' --record ";
    expectRefused(runCliBounded(run + dir.file("no/such/folder/run.h5")), "does not exist");
    expectRefused(runCliBounded(run + dir.file("file.txt/run.h5")), "is a file, not a folder");
    expectRefused(runCliBounded(run + "/proc/kvs-run.h5"), "cannot write");
    // No space at all (SIGXFSZ not ignored: nothing may try to write past the limit).
    expectRefused(runCliBounded(run + dir.file("nospace.h5"), "ulimit -f 0;"),
                  "not enough disk space to record");
    // Room for the file's start only (64 KiB): refused before generating too.
    expectRefused(runCliBounded(run + dir.file("small.h5") + " --record-values", "ulimit -f 64;"),
                  "not enough disk space to record");
  }
  EXPECT_EQ(readFile(dir.file("file.txt")), "a file, not a folder");
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "file.txt") << "left behind: " << entry.path();
  }
}

}  // namespace
}  // namespace kvs::test
