#pragma once
// Writes a text output (CSV, JSON) so that it appears complete or not at all: a temporary file
// next to it, renamed into place. KvsError names the path and the reason.

#include <string>

namespace kvs {

void writeTextFile(const std::string& path, const std::string& content);

}  // namespace kvs
