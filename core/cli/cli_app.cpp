#include "cli/cli_app.h"

#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/progress_line.h"
#include "cli/validators.h"
#include "kvs/version.h"
#include "util/blas_info.h"
#include "util/error.h"
#include "util/runtime.h"

namespace kvs::cli {
Action addSweepCommand(CLI::App& app);  // sweep_command.cpp

namespace {

std::string firstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

int fail(const std::string& message) {
  endProgressLine();  // the error starts a line of its own, not the end of a progress bar
  std::cerr << "kvstudio-cli: error: " << message << "\n";
  return 2;
}

}  // namespace

int runCli(int argc, char** argv) {
  CLI::App app{"KV Studio command line: run Llama-2-family models and study their KV cache.",
               "kvstudio-cli"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("kvstudio-cli ") + kVersion +
                                        " (BLAS: " + describeBlas(detectBlas()) + ")");
  int threads = 0;  // 0 = one per core
  app.add_option("--threads", threads, "Compute threads (0 = one per core)")
      ->check(nonNegativeWhole());

  // Options of the main app (--threads) are accepted after the command too.
  CLI::App* generate = app.add_subcommand("generate", "Generate text from a prompt")->fallthrough();
  CLI::App* tokenize =
      app.add_subcommand("tokenize", "Show the token ids and pieces of a text")->fallthrough();
  CLI::App* info =
      app.add_subcommand("info", "Describe a model file and the runtime")->fallthrough();
  CLI::App* compare =
      app.add_subcommand("compare", "Compare compression variants against the full cache")
          ->fallthrough();
  CLI::App* analyze =
      app.add_subcommand("analyze", "Key similarity and merging sets from recordings")
          ->fallthrough();
  CLI::App* methods =
      app.add_subcommand("methods", "The compression methods and the flags each reads");
  CLI::App* evaluate =
      app.add_subcommand("eval", "Long-context evaluation: run LongBench tasks, score predictions")
          ->fallthrough();
  CLI::App* sweep =
      app.add_subcommand("sweep", "Sweeps of models x tasks x settings: run, submit to Slurm, "
                                  "status, merge")
          ->fallthrough();
  const std::vector<std::pair<CLI::App*, Action>> actions = {
      {generate, addGenerateCommand(*generate)},
      {tokenize, addTokenizeCommand(*tokenize)},
      {info, addInfoCommand(*info)},
      {compare, addCompareCommand(*compare)},
      {analyze, addAnalyzeCommand(*analyze)},
      {methods, addMethodsCommand(*methods)},
      {evaluate, addEvalCommand(*evaluate)},
      {sweep, addSweepCommand(*sweep)}};
  const auto isCommand = [&](const std::string& name) {
    for (const auto& entry : actions) {
      if (entry.first->get_name() == name) return true;
    }
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !isCommand(argv[1])) {
    std::string names;
    for (size_t i = 0; i < actions.size(); ++i) {
      if (i > 0) names += i + 1 == actions.size() ? " and " : ", ";
      names += actions[i].first->get_name();
    }
    return fail(std::string("unknown command '") + argv[1] + "'; the commands are " + names +
                " (see --help)");
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return fail(firstLine(e.what()) + " (see --help)");
  }

  try {
    tuneAllocator();
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (threads > cores) {
      std::cerr << "note: --threads " << threads << " is more than the " << cores
                << " cores here; using " << cores << "\n";
      threads = cores;
    }
    setComputeThreads(threads);
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
    return fail("no command given (see --help)");
  } catch (const KvsError& e) {
    return fail(e.what());
  } catch (const c10::Error& e) {
    return fail("internal error: " + firstLine(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return fail("out of memory (the model or the requested context does not fit in RAM)");
  } catch (const std::exception& e) {
    return fail(firstLine(e.what()));
  }
}

}  // namespace kvs::cli
