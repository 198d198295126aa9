#pragma once
// The rules every file the tools write and every file they read follow, checked before any work:
// an output never replaces an existing file without being told to, never replaces what is not a
// regular file, and never overwrites a file the run reads (the model, the tokenizer, a
// recording); an input is opened only when it is a regular file (opening a FIFO would block).

#include <string>
#include <vector>

namespace kvs {

// Throws KvsError naming `what`, the path and the fix unless `path` may be written:
// - empty, or a folder, device, FIFO, socket or symbolic link: refused, even with force;
// - an existing regular file: refused unless force;
// - the same file (device and inode) as one of `inputs` (a folder stands for the files directly
//   in it): refused, even with force;
// - a parent folder that does not exist or cannot be written: refused.
void checkOutputPath(const std::string& path, bool force, const std::vector<std::string>& inputs,
                     const std::string& what);

// Throws KvsError unless `path` is a regular file (after following symbolic links): a FIFO, a
// device, a socket or a folder named where a file is expected is refused before anything opens
// it. `what` names the role, e.g. "model file".
void requireRegularFile(const std::string& path, const std::string& what);

}  // namespace kvs
