#include "cli/cli_app.h"

#include <c10/util/Exception.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "kvs/version.h"
#include "model/llama_model.h"
#include "util/blas_info.h"
#include "util/error.h"
#include "util/runtime.h"

namespace kvs::cli {
namespace {

std::string firstLine(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

int fail(const std::string& message) {
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
  GlobalOptions global;
  app.add_option("--threads", global.threads, "Compute threads (0 = one per core)")
      ->check(CLI::NonNegativeNumber);

  std::map<CLI::App*, Action> actions;
  actions[app.add_subcommand("generate", "Generate text from a prompt")] = {};
  actions[app.add_subcommand("tokenize", "Show the token ids and pieces of a text")] = {};
  actions[app.add_subcommand("info", "Describe a model file and the runtime")] = {};
  for (auto& [sub, action] : actions) {
    const std::string name = sub->get_name();
    action = name == "generate"   ? addGenerateCommand(*sub, global)
             : name == "tokenize" ? addTokenizeCommand(*sub)
                                  : addInfoCommand(*sub, global);
  }

  if (argc > 1 && argv[1][0] != '-' && !actions.empty()) {
    bool known = false;
    for (const auto& entry : actions) known |= entry.first->get_name() == argv[1];
    if (!known) {
      return fail(std::string("unknown command '") + argv[1] +
                  "'; the commands are generate, tokenize and info (see --help)");
    }
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
    setComputeThreads(global.threads);
    for (auto& [sub, action] : actions) {
      if (sub->parsed()) return action();
    }
    return fail("no command given (see --help)");
  } catch (const KvsError& e) {
    return fail(e.what());
  } catch (const c10::Error& e) {
    return fail("internal error: " + firstLine(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return fail(firstLine(e.what()));
  }
}

}  // namespace kvs::cli
