#pragma once
// SHA-256 of model files, so a recording names exactly which weights produced it.

#include <functional>
#include <string>

namespace kvs {

// Asked between 1 MiB blocks while hashing; false stops (KvsError "cancelled").
using HashKeepGoing = std::function<bool()>;

// Lower-case hex SHA-256 of a file's bytes; KvsError when it cannot be read.
std::string sha256OfFile(const std::string& path, const HashKeepGoing& keepGoing = {});

// A file: its SHA-256. A folder (e.g. a Hugging Face checkpoint): the SHA-256 of the text that
// `sha256sum *` prints for its regular files in name order ("<hex>  <name>\n" per file).
// Each file's digest is remembered in a digest cache keyed by its absolute path, size,
// modification time (ns) and inode, as git's index does, because hashing a 7B checkpoint reads
// 13 GB: a file changed in any of these is hashed again.
std::string checkpointSha256(const std::string& path, const HashKeepGoing& keepGoing = {});

// The digest cache: $KVS_DIGEST_CACHE if set (empty: no cache), else
// $XDG_CACHE_HOME/kvstudio/sha256.tsv, else ~/.cache/kvstudio/sha256.tsv. One line per file:
// "<hex>\t<size>\t<mtime ns>\t<inode>\t<absolute path>"; later lines win, unreadable ones are
// ignored, and a cache that cannot be written only costs the hashing again.
std::string digestCachePath();

}  // namespace kvs
