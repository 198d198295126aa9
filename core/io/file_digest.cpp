#include "io/file_digest.h"

#include <openssl/evp.h>

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "util/error.h"

namespace kvs {
namespace {

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    require(ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1,
            "OpenSSL could not start a SHA-256 digest");
  }
  void update(const void* data, size_t size) { EVP_DigestUpdate(ctx_.get(), data, size); }
  std::string hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), digest, &size);
    std::string text;
    char byte[3];
    for (unsigned int i = 0; i < size; ++i) {
      std::snprintf(byte, sizeof byte, "%02x", digest[i]);
      text += byte;
    }
    return text;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

// What identifies a file's contents without reading them.
struct FileStamp {
  long long size = 0, mtimeNs = 0, inode = 0;
  bool operator==(const FileStamp& o) const {
    return size == o.size && mtimeNs == o.mtimeNs && inode == o.inode;
  }
};

bool stampOf(const std::string& path, FileStamp& stamp) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  stamp.size = st.st_size;
  stamp.mtimeNs = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  stamp.inode = static_cast<long long>(st.st_ino);
  return true;
}

std::string cachedDigest(const std::string& cache, const std::string& path,
                         const FileStamp& stamp) {
  std::ifstream in(cache);
  std::string line, found;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string hex, file;
    FileStamp s;
    if (!(fields >> hex >> s.size >> s.mtimeNs >> s.inode) || hex.size() != 64) continue;
    fields.ignore(1);  // the tab before the path, which may hold spaces
    std::getline(fields, file);
    if (file == path && s == stamp) found = hex;
  }
  return found;
}

void rememberDigest(const std::string& cache, const std::string& path, const FileStamp& stamp,
                    const std::string& hex) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(cache).parent_path(), ec);
  std::ofstream out(cache, std::ios::app);  // one short line: appends do not interleave
  out << hex << '\t' << stamp.size << '\t' << stamp.mtimeNs << '\t' << stamp.inode << '\t' << path
      << '\n';
}

// sha256OfFile, through the digest cache.
std::string fileDigest(const std::string& given, const HashKeepGoing& keepGoing) {
  const std::string cache = digestCachePath();
  std::error_code ec;
  const std::string path = std::filesystem::absolute(given, ec).lexically_normal().string();
  FileStamp stamp;
  if (cache.empty() || ec || !stampOf(path, stamp)) return sha256OfFile(given, keepGoing);
  std::string hex = cachedDigest(cache, path, stamp);
  if (!hex.empty()) return hex;
  hex = sha256OfFile(path, keepGoing);
  FileStamp after;  // written while it was read: do not remember
  if (stampOf(path, after) && after == stamp) rememberDigest(cache, path, stamp, hex);
  return hex;
}

}  // namespace

std::string digestCachePath() {
  if (const char* set = std::getenv("KVS_DIGEST_CACHE")) return set;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/kvstudio/sha256.tsv";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.cache/kvstudio/sha256.tsv";
  }
  return {};
}

std::string sha256OfFile(const std::string& path, const HashKeepGoing& keepGoing) {
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
  require(file != nullptr, "cannot read " + path + ": " + std::strerror(errno));
  Sha256 digest;
  std::vector<char> buffer(1 << 20);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), file.get())) > 0) {
    if (keepGoing && !keepGoing()) throw KvsError("cancelled");
    digest.update(buffer.data(), n);
  }
  require(!std::ferror(file.get()), "error while reading " + path);
  return digest.hex();
}

std::string checkpointSha256(const std::string& path, const HashKeepGoing& keepGoing) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(path)) return fileDigest(path, keepGoing);
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  Sha256 digest;
  for (const auto& f : files) {
    const std::string line =
        fileDigest(f.string(), keepGoing) + "  " + f.filename().string() + "\n";
    digest.update(line.data(), line.size());
  }
  return digest.hex();
}

}  // namespace kvs
