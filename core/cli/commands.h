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
// A parent command: its subcommands (score, longbench) are added to `app` and the action runs
// the chosen one.
Action addEvalCommand(CLI::App& app);

// A subcommand of a parent command and what runs it.
struct Subcommand {
  CLI::App* app;
  Action action;
};
Subcommand addEvalLongBenchCommand(CLI::App& eval);
Subcommand addEvalNeedleCommand(CLI::App& eval);
Subcommand addEvalPerplexityCommand(CLI::App& eval);

}  // namespace kvs::cli
