// Output and input paths are checked before any work: no existing file replaced without --force,
// nothing that is not a regular file replaced or opened, no input overwritten even with --force.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "io/output_path.h"
#include "io/text_file.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

using test::TempDir;

std::string refusal(const std::string& path, bool force, const std::vector<std::string>& inputs) {
  try {
    checkOutputPath(path, force, inputs, "output file");
  } catch (const KvsError& e) {
    return e.what();
  }
  return "";
}

TEST(OutputPath, RefusesWhatMayNotBeReplaced) {
  TempDir dir;
  const std::string file = dir.file("out.csv");
  EXPECT_EQ(refusal(file, false, {}), "");  // new
  test::writeFile(file, "old");
  EXPECT_NE(refusal(file, false, {}).find("already exists; pass --force"), std::string::npos);
  EXPECT_EQ(refusal(file, true, {}), "");
  // Never replaced, even with --force: a FIFO, a device, a symbolic link, a folder.
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  EXPECT_NE(refusal(dir.file("fifo"), true, {}).find("is a FIFO"), std::string::npos);
  EXPECT_NE(refusal("/dev/null", true, {}).find("is a device"), std::string::npos);
  std::filesystem::create_symlink(file, dir.file("link"));
  EXPECT_NE(refusal(dir.file("link"), true, {}).find("is a symbolic link"), std::string::npos);
  EXPECT_NE(refusal(dir.path(), true, {}).find("is a folder"), std::string::npos);
  EXPECT_NE(refusal("", true, {}).find("path is empty"), std::string::npos);
  EXPECT_NE(refusal(dir.file("missing/out.csv"), true, {}).find("does not exist"),
            std::string::npos);
}

TEST(OutputPath, NeverOverwritesAnInputEvenWithForce) {
  TempDir dir;
  std::filesystem::create_directory(dir.file("model"));
  test::writeFile(dir.file("model/model.safetensors"), "weights");
  // The same file under another name (a hard link): same device and inode.
  ASSERT_EQ(::link(dir.file("model/model.safetensors").c_str(), dir.file("alias.h5").c_str()), 0);
  const std::string why = refusal(dir.file("alias.h5"), true, {dir.file("model")});
  EXPECT_NE(why.find("which this run reads"), std::string::npos) << why;
  EXPECT_NE(refusal(dir.file("model/model.safetensors"), true, {dir.file("model")}).find("reads"),
            std::string::npos);
  test::writeFile(dir.file("other.h5"), "x");
  EXPECT_EQ(refusal(dir.file("other.h5"), true, {dir.file("model")}), "");
}

TEST(InputPath, RefusesAFifoOrAFolderBeforeOpeningIt) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.file("config.json").c_str(), 0600), 0);
  EXPECT_THROW(requireRegularFile(dir.file("config.json"), "config file"), KvsError);
  EXPECT_THROW(requireRegularFile(dir.path(), "model file"), KvsError);
  EXPECT_THROW(requireRegularFile(dir.file("missing"), "model file"), KvsError);
  test::writeFile(dir.file("ok"), "x");
  EXPECT_NO_THROW(requireRegularFile(dir.file("ok"), "model file"));
}

TEST(TextFile, WritesThroughAUniqueTemporaryAndLeavesNoneBehind) {
  TempDir dir;
  test::writeFile(dir.file("out.csv.part"), "a user's file");
  writeTextFile(dir.file("out.csv"), "a,b\n");
  EXPECT_EQ(test::readFile(dir.file("out.csv")), "a,b\n");
  EXPECT_EQ(test::readFile(dir.file("out.csv.part")), "a user's file");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.exists();
  EXPECT_EQ(files, 2);
}

}  // namespace
}  // namespace kvs
