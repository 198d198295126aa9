#pragma once
// SHA-256 of model files, so a recording names exactly which weights produced it.

#include <string>

namespace kvs {

// Lower-case hex SHA-256 of a file's bytes; KvsError when it cannot be read.
std::string sha256OfFile(const std::string& path);

// A file: its SHA-256. A folder (e.g. a Hugging Face checkpoint): the SHA-256 of the text that
// `sha256sum *` prints for its regular files in name order ("<hex>  <name>\n" per file).
std::string checkpointSha256(const std::string& path);

}  // namespace kvs
