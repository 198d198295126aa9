#pragma once
// kvstudio-cli: the scriptable face of KV Studio. The main() in app/ only calls runCli.

#include <iosfwd>

namespace kvs::cli {

// Parses argv, runs the chosen command and returns the process exit code. Errors are reported on
// stderr as one line naming the problem and the fix; the exit code is then non-zero.
int runCli(int argc, char** argv);

}  // namespace kvs::cli
