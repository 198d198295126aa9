// SHA-256 of checkpoints against the standard test vector, and the digest cache: used when a
// file's stamp matches, ignored when the file changes, off when KVS_DIGEST_CACHE is empty.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "io/file_digest.h"
#include "test_util.h"
#include "util/error.h"

namespace kvs {
namespace {

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// FIPS 180-2's first example.
const std::string kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(FileDigest, IsSha256) {
  test::TempDir dir;
  writeText(dir.file("abc"), "abc");
  EXPECT_EQ(sha256OfFile(dir.file("abc")), kAbc);
  setenv("KVS_DIGEST_CACHE", "", 1);
  EXPECT_EQ(checkpointSha256(dir.file("abc")), kAbc);
  unsetenv("KVS_DIGEST_CACHE");
}

TEST(FileDigest, CacheIsUsedWhileTheFileIsUnchanged) {
  test::TempDir dir;
  const std::string cache = dir.file("cache/sha256.tsv"), file = dir.file("weights.bin");
  setenv("KVS_DIGEST_CACHE", cache.c_str(), 1);
  writeText(file, "abc");
  EXPECT_EQ(checkpointSha256(file), kAbc);
  const std::string line = test::readFile(cache);
  ASSERT_EQ(line.substr(0, 64), kAbc) << line;
  EXPECT_NE(line.find(file), std::string::npos);

  // A forged entry for the same stamp is believed: the file is not read again.
  const std::string forged = std::string(64, 'f') + line.substr(64);
  writeText(cache, line + forged);
  EXPECT_EQ(checkpointSha256(file), std::string(64, 'f'));

  // Once the file changes, its stamp does too, and it is hashed again.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  writeText(file, "abcd");
  EXPECT_EQ(checkpointSha256(file), sha256OfFile(file));
  EXPECT_NE(checkpointSha256(file), std::string(64, 'f'));

  // An empty KVS_DIGEST_CACHE turns the cache off.
  setenv("KVS_DIGEST_CACHE", "", 1);
  const std::string other = dir.file("other.bin");
  writeText(other, "abc");
  EXPECT_EQ(checkpointSha256(other), kAbc);
  EXPECT_EQ(test::readFile(cache).find(other), std::string::npos);
  unsetenv("KVS_DIGEST_CACHE");
}

// Hashing a 7B checkpoint takes long: it stops between blocks when asked, and remembers nothing.
TEST(FileDigest, StopsWhenAskedAndRemembersNothing) {
  test::TempDir dir;
  const std::string cache = dir.file("sha256.tsv"), file = dir.file("big.bin");
  setenv("KVS_DIGEST_CACHE", cache.c_str(), 1);
  writeText(file, std::string(3 << 20, 'x'));
  int asked = 0;
  EXPECT_THROW(checkpointSha256(file, [&] { return ++asked < 2; }), KvsError);
  EXPECT_EQ(asked, 2);
  EXPECT_FALSE(std::filesystem::exists(cache));
  EXPECT_EQ(checkpointSha256(file), sha256OfFile(file));
  unsetenv("KVS_DIGEST_CACHE");
}

}  // namespace
}  // namespace kvs
