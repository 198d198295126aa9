#include "cli/compression_options.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "cli/validators.h"
#include "compress/compression_method.h"
#include "model/llama_model.h"
#include "util/error.h"

namespace kvs::cli {

void addCompressionOptions(CLI::App& app, CompressionOptions& o) {
  const std::string group = "Compression";
  std::string names;
  for (const CompressionMethod* m : allMethods()) names += (names.empty() ? "" : ", ") + m->name();
  o.methodOption = app.add_option("--method", o.method,
                                  names + " (`kvstudio-cli methods` describes each and its flags)")
                       ->group(group);
  for (const ParamSpec& spec : allParams()) {
    const std::string flag = "--" + spec.flag;
    if (spec.kind == ParamKind::kSwitch) {
      o.options[spec.key] = app.add_flag(flag, o.switches[spec.key], spec.help)->group(group);
      continue;
    }
    const ParamSpec* s = &spec;  // the registry outlives the app
    o.options[spec.key] =
        app.add_option(flag, o.text[spec.key], spec.help)
            ->check(CLI::Validator([s](std::string& text) { return s->problemWith(text); }, "", ""))
            ->group(group);
  }
}

bool CompressionOptions::given(const std::string& key) const {
  if (key == "method") return methodOption && methodOption->count() > 0;
  const auto it = options.find(key);
  return it != options.end() && it->second->count() > 0;
}

CompressionParams CompressionOptions::resolve() const {
  CompressionParams p;
  p.method = methodNamed(method).name();
  for (const ParamSpec& spec : allParams()) {
    if (!given(spec.key)) continue;
    spec.set(p, spec.kind == ParamKind::kSwitch ? nlohmann::json(spec.switchValue)
                                                : spec.parse(text.at(spec.key)));
  }
  // The authors' streaming CaM merges each evicted value into the 16 values after it.
  if (p.camBase == CamBase::kStreaming && !given("cam_window")) p.camWindow = 16;
  p.validate();
  return p;
}

void CompressionOptions::requireUsedBy(const std::vector<std::string>& methods,
                                       const CompressionParams& p) const {
  for (const ParamSpec& spec : allParams()) {
    if (!given(spec.key)) continue;
    bool read = false, listed = false;
    std::string why;
    for (const std::string& name : methods) {
      const CompressionMethod& m = methodNamed(name);
      CompressionParams asRun = p;
      asRun.method = m.name();
      const auto ignored = m.ignores(spec.key, asRun);
      const auto keys = m.parameterKeys();
      read = read || !ignored;
      if (ignored && std::find(keys.begin(), keys.end(), spec.key) != keys.end()) {
        listed = true;
        why = *ignored;
      }
    }
    if (read) continue;
    // Otherwise the flag would be ignored in silence.
    require(listed, "--" + spec.flag + " applies to " + methodsReading(spec.key) +
                        " only; choose one of them or drop --" + spec.flag);
    throw KvsError("--" + spec.flag + " has no effect " + why);
  }
}

std::vector<std::string> comparedByDefault() {
  std::vector<std::string> names;
  for (const CompressionMethod* m : allMethods()) {
    if (m->comparedByDefault()) names.push_back(m->name());
  }
  return names;
}

std::vector<CompressionParams> settingsGrid(const CompressionOptions& o,
                                            const std::vector<std::string>& methods,
                                            const std::vector<double>& budgets,
                                            const LlamaModel& model, const std::string& command) {
  require(!o.given("method") && !o.given("budget") && !o.given("budget_tokens"),
          command + " takes --methods and --budgets, not --method, --budget or --budget-tokens");
  const CompressionParams shared = o.resolve();
  for (const auto& name : methods) methodNamed(name);  // an unknown name lists the known ones
  o.requireUsedBy(methods, shared);
  requireDecodeChunkBelowContext(shared.decodeChunk, model.config().seqLen);
  std::vector<CompressionParams> settings;
  for (const auto& name : methods) {
    const CompressionMethod& method = methodNamed(name);
    if (!method.compresses()) continue;
    for (double budget : budgets) {
      CompressionParams p = shared;
      p.method = method.name();
      p.budget = budget;
      p.validateForModel(model.config().nLayers, model.kvDtype() == at::kFloat);
      settings.push_back(p);
    }
  }
  return settings;
}

}  // namespace kvs::cli
