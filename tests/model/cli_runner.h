#pragma once
// Runs kvstudio-cli as a user would (through the shell), capturing exit code, stdout and stderr.

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "test_util.h"

namespace kvs::test {

struct CliRun {
  int exitCode;
  std::string out, err;
};

// `prefix` runs before the binary in the same shell, e.g. "ulimit -f 64;". A `timeoutSeconds`
// above 0 kills the run then (exit 137): for tests where a hang is the bug.
inline CliRun runCliCommand(const std::string& args, const std::string& prefix = "",
                            int timeoutSeconds = 0) {
  TempDir dir;
  {
    std::ofstream script(dir.file("run.sh"));
    const std::string limit =
        timeoutSeconds > 0 ? "timeout -s KILL " + std::to_string(timeoutSeconds) + " " : "";
    script << prefix << "\nexec " << limit << KVS_CLI_PATH << " " << args << " > "
           << dir.file("out") << " 2> " << dir.file("err") << " < /dev/null\n";
  }
  const int status = std::system(("bash " + dir.file("run.sh")).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
          readFile(dir.file("out")), readFile(dir.file("err"))};
}

}  // namespace kvs::test
