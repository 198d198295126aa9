// Where a recording may go and how its file appears: the recorder itself (as the app uses it)
// never writes over the run's model or tokenizer, refuses FIFOs before opening them, publishes
// its file only once it opens, and leaves no temporary behind when it refuses.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "io/recording_file.h"
#include "io/recording_reader.h"
#include "recording_fixture.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs::test {
namespace {

namespace fs = std::filesystem;

using test::errorOf;

std::vector<std::string> namesIn(const std::string& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The app passes the model and tokenizer in RecordingMeta; they are never overwritten, even with
// overwrite set, and a Hugging Face folder counts with every file in it.
TEST(RecordingFile, RecorderNeverWritesOverTheRunsInputs) {
  TempDir dir;
  fs::create_directory(dir.file("hf"));
  writeFile(dir.file("hf/config.json"), "{}");
  writeFile(dir.file("hf/model.safetensors"), "weights");
  writeFile(dir.file("tok.model"), "tokenizer");
  const ModelConfig c = recordingConfig();
  RecordingOptions o;
  o.overwrite = true;
  for (const std::string model : {dir.file("hf"), dir.file("hf/config.json")}) {
    RecordingMeta meta = recordingMeta(c, 3);
    meta.checkpointPath = model;
    meta.tokenizerPath = dir.file("tok.model");
    for (const std::string target : {"hf/model.safetensors", "hf/config.json", "tok.model"}) {
      o.path = dir.file(target);
      const std::string before = readFile(o.path);
      EXPECT_NE(errorOf([&] { Hdf5Recorder(o, meta); }).find("which this run reads"),
                std::string::npos)
          << target;
      EXPECT_EQ(readFile(o.path), before);
    }
  }
  EXPECT_EQ(namesIn(dir.path()), (std::vector<std::string>{"hf", "tok.model"}));
  EXPECT_EQ(namesIn(dir.file("hf")),
            (std::vector<std::string>{"config.json", "model.safetensors"}));
}

TEST(RecordingFile, FifoEmptyPathAndPathThroughAFileAreRefused) {
  TempDir dir;
  const ModelConfig c = recordingConfig();
  RecordingOptions o;
  o.overwrite = true;
  o.path = dir.file("pipe.h5");
  ASSERT_EQ(mkfifo(o.path.c_str(), 0644), 0);
  EXPECT_NE(errorOf([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }).find("is a FIFO"),
            std::string::npos);
  o.path = "";
  EXPECT_NE(errorOf([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }).find("path is empty"),
            std::string::npos);
  writeFile(dir.file("file.txt"), "text");
  o.path = dir.file("file.txt/run.h5");
  EXPECT_NE(errorOf([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }).find("is a file, not a folder"),
            std::string::npos);
  o.path = dir.file("file.txt/sub/run.h5");
  EXPECT_NE(errorOf([&] { Hdf5Recorder(o, recordingMeta(c, 3)); }).find("part of it is a file"),
            std::string::npos);
  EXPECT_EQ(namesIn(dir.path()), (std::vector<std::string>{"file.txt", "pipe.h5"}));
}

// The file appears complete with its skeleton or not at all; a name as long as the system allows
// still gets a temporary (its name shortened).
TEST(RecordingFile, LongestFileNameRecords) {
  TempDir dir;
  RecordingOptions o;
  o.path = dir.file(std::string(250, 'r') + ".h5");
  const ModelConfig c = recordingConfig();
  {
    Hdf5Recorder r(o, recordingMeta(c, 4));
    EXPECT_TRUE(r.ok()) << r.error();
    // Before any state is written the file already opens, marked incomplete.
    const RecordingReader early(o.path);
    EXPECT_FALSE(early.info().complete);
    EXPECT_EQ(early.info().tokens, 0);
    recordForward(r, c, 0, 4);
    r.finish();
    EXPECT_EQ(r.recordedTokens(), 4);
  }
  EXPECT_TRUE(RecordingReader(o.path).info().complete);
  EXPECT_EQ(namesIn(dir.path()).size(), 1u);
}

// Publishing never replaces a file that appeared after the checks unless told to.
TEST(RecordingFile, PublishKeepsAFileThatAppearedMeanwhile) {
  TempDir dir;
  const std::string target = dir.file("run.h5");
  {
    PendingFile pending(target);
    EXPECT_EQ(fs::path(pending.path()).filename().string().rfind("run.h5.part-", 0), 0u);
    writeFile(target, "someone else's");
    EXPECT_NE(errorOf([&] { pending.publish(false); }).find("it was kept"), std::string::npos);
  }
  EXPECT_EQ(readFile(target), "someone else's");
  EXPECT_EQ(namesIn(dir.path()), std::vector<std::string>{"run.h5"});
  {
    PendingFile pending(target);
    writeFile(pending.path(), "new");
    pending.publish(true);
  }
  EXPECT_EQ(readFile(target), "new");
  EXPECT_EQ(namesIn(dir.path()), std::vector<std::string>{"run.h5"});
}

}  // namespace
}  // namespace kvs::test
