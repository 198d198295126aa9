// kvstudio-cli methods: the registered compression methods, what each keeps, merges or evicts,
// the flags it reads and its paper; --markdown prints the README's table, --json the registry.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "compress/compression_method.h"
#include "compress/compression_params.h"

namespace kvs::cli {
namespace {

struct MethodsOptions {
  bool markdown = false, json = false;
};

std::string flagsOf(const CompressionMethod& m, const char* separator) {
  std::string flags;
  for (const std::string& key : m.parameterKeys()) {
    flags += (flags.empty() ? "" : separator) + ("--" + paramSpec(key).flag);
  }
  return flags.empty() ? "-" : flags;
}

nlohmann::ordered_json registryJson() {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const CompressionMethod* m : allMethods()) {
    nlohmann::ordered_json params = nlohmann::ordered_json::array();
    for (const std::string& key : m->parameterKeys()) {
      const ParamSpec& s = paramSpec(key);
      CompressionParams defaults;
      defaults.method = m->name();
      params.push_back({{"key", s.key},
                        {"flag", "--" + s.flag},
                        {"default", s.get(defaults)},
                        {"range", s.rangeText()},
                        {"help", s.help}});
    }
    out.push_back({{"name", m->name()},
                   {"title", m->title()},
                   {"summary", m->summary()},
                   {"reference", m->reference()},
                   {"compared_by_default", m->comparedByDefault()},
                   {"parameters", params}});
  }
  return out;
}

int runMethods(const MethodsOptions& o) {
  if (o.json) {
    std::cout << registryJson().dump(2) << "\n";
    return 0;
  }
  if (o.markdown) {
    std::cout << "| method | what it keeps, merges or evicts | flags | paper, code |\n"
              << "|---|---|---|---|\n";
    for (const CompressionMethod* m : allMethods()) {
      std::cout << "| `" << m->name() << "` (" << m->title() << ") | " << m->summary() << " | "
                << flagsOf(*m, ", ") << " | " << m->reference() << " |\n";
    }
    return 0;
  }
  for (const CompressionMethod* m : allMethods()) {
    std::cout << m->name() << " (" << m->title() << "): " << m->summary() << "\n  "
              << m->reference() << "\n";
    for (const std::string& key : m->parameterKeys()) {
      const ParamSpec& s = paramSpec(key);
      std::cout << "  --" << s.flag << ": " << s.help << "\n";
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace

Action addMethodsCommand(CLI::App& app) {
  auto o = std::make_shared<MethodsOptions>();
  app.add_flag("--markdown", o->markdown, "The README's method table");
  app.add_flag("--json", o->json, "The registry: methods, parameters, defaults and ranges");
  return [o] { return runMethods(*o); };
}

}  // namespace kvs::cli
