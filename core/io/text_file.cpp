#include "io/text_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace kvs {

void writeTextFile(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  std::error_code ec;
  require(!fs::is_directory(path, ec), "cannot write " + path + ": it is a folder; name a file");
  const std::string part = path + ".part";
  {
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    require(out.good(),
            "cannot write " + path + ": " + std::strerror(errno) + "; choose a writable path");
    out << content;
    out.flush();
    if (!out.good()) {
      const std::string why = std::strerror(errno);
      out.close();
      fs::remove(part, ec);
      throw KvsError("cannot write " + path + ": " + why + " (disk full?)");
    }
  }
  if (std::rename(part.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(part, ec);
    throw KvsError("cannot write " + path + ": " + why);
  }
}

}  // namespace kvs
