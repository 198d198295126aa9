#pragma once
// The subcommands of kvstudio-cli. Each registers its options on the parent app and runs after
// parsing; errors are thrown as KvsError and reported by runCli.

#include <functional>

namespace CLI {
class App;
}

namespace kvs::cli {

struct GlobalOptions {
  int threads = 0;  // 0 = one per core
};

using Action = std::function<int()>;

Action addGenerateCommand(CLI::App& app, const GlobalOptions& global);
Action addTokenizeCommand(CLI::App& app);
Action addInfoCommand(CLI::App& app, const GlobalOptions& global);

}  // namespace kvs::cli
