#pragma once
// The subcommands of kvstudio-cli. Each registers its options on the parent app and runs after
// parsing; errors are thrown as KvsError and reported by runCli.

#include <functional>

namespace CLI {
class App;
}

namespace kvs::cli {

using Action = std::function<int()>;

Action addGenerateCommand(CLI::App& app);
Action addTokenizeCommand(CLI::App& app);
Action addInfoCommand(CLI::App& app);
Action addCompareCommand(CLI::App& app);
Action addAnalyzeCommand(CLI::App& app);
Action addMethodsCommand(CLI::App& app);

}  // namespace kvs::cli
