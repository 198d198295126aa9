// The registry: the methods of method_list.h, the parameters they share and every method's own.

#include <algorithm>
#include <limits>
#include <map>

#include "compress/compression_method.h"
#include "compress/compression_params.h"
#include "util/error.h"

namespace kvs {

#define KVS_METHOD(f) const CompressionMethod& f();
#include "compress/method_list.h"
#undef KVS_METHOD

const std::vector<const CompressionMethod*>& allMethods() {
  static const std::vector<const CompressionMethod*> methods = {
#define KVS_METHOD(f) &f(),
#include "compress/method_list.h"
#undef KVS_METHOD
  };
  return methods;
}

const CompressionMethod& methodNamed(const std::string& name) {
  std::string accepted;
  for (const CompressionMethod* m : allMethods()) {
    if (m->name() == name) return *m;
    accepted += (accepted.empty() ? "" : ", ") + m->name();
  }
  throw KvsError("unknown method '" + name + "'; use one of: " + accepted);
}

std::optional<std::string> CompressionMethod::ignores(const std::string& key,
                                                      const CompressionParams& p) const {
  const auto keys = parameterKeys();
  if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
    return "for " + name() + ", which does not read it";
  }
  if (key == "budget" && p.budgetTokens > 0) {
    return "with --budget-tokens, which sets the slots kept itself";
  }
  if (key == "decode_chunk" && !compressesWhileDecoding(p)) {
    return "without compression while decoding; add --decode-compression";
  }
  return std::nullopt;
}

const std::vector<ParamSpec>& sharedParams() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> s;
    s.push_back(realParam("budget", "budget", "&Budget ratio",
                          "Slots kept per (layer, KV head), as a fraction of the prompt", 0, 1,
                          &CompressionParams::budget, /*loOpen=*/true));
    s.push_back(wholeParam("budget-tokens", "budget_tokens", "Budget &slots",
                           "Slots kept per (layer, KV head), absolute; overrides --budget. At "
                           "least the prompt's tokens keeps the prompt's cache whole (a note says "
                           "nothing is compressed)",
                           1, std::numeric_limits<int>::max(), &CompressionParams::budgetTokens));
    s.back().unsetBelowLo = true;  // 0: use the ratio
    s.back().unsetLabel = "use ratio";
    s.push_back(realParam("recent", "recent", "&Recent",
                          "Recent tokens never evicted or merged, fraction of the prompt "
                          "(default: the paper's for the budget)",
                          0, 1, &CompressionParams::recentRatio));
    s.back().unsetBelowLo = true;
    s.push_back(realParam("protected", "protected", "&Protected",
                          "Tokens kept for their accumulated attention (KVMerger: protected; H2O "
                          "and CaM: heavy hitters), fraction of the prompt (default: the paper's)",
                          0, 1, &CompressionParams::protectedRatio));
    s.back().unsetBelowLo = true;
    s.push_back(choiceParam("gqa-reduction", "gqa_reduction", "GQA reduction",
                            "Accumulated attention over the query heads of a KV head: mean, sum "
                            "or max",
                            choiceNames(GqaReduction{}), &CompressionParams::gqaReduction));
    s.push_back(switchParam("decode-compression", "decode_compression", "compress while decoding",
                            "Keep the cache at its compressed size while decoding",
                            &CompressionParams::decodeCompression));
    s.push_back(wholeParam("decode-chunk", "decode_chunk", "Decode chunk",
                           "With --decode-compression: slots a head may grow before it is "
                           "compressed again (default 1: H2O's per-step eviction)",
                           1, std::numeric_limits<int>::max(), &CompressionParams::decodeChunk));
    return s;
  }();
  return specs;
}

const std::vector<ParamSpec>& allParams() {
  static const std::vector<ParamSpec> specs = [] {
    std::vector<ParamSpec> all = sharedParams();
    for (const CompressionMethod* m : allMethods()) {
      for (ParamSpec& s : m->ownParams()) {
        const bool known =
            std::any_of(all.begin(), all.end(), [&](const ParamSpec& a) { return a.key == s.key; });
        require(!known, "two compression methods declare the parameter " + s.key);
        all.push_back(std::move(s));
      }
    }
    return all;
  }();
  return specs;
}

const ParamSpec& paramSpec(const std::string& key) {
  for (const ParamSpec& s : allParams()) {
    if (s.key == key) return s;
  }
  throw KvsError("unknown compression parameter '" + key + "'");
}

std::string methodsReading(const std::string& key) {
  std::vector<std::string> names;
  for (const CompressionMethod* m : allMethods()) {
    const auto keys = m->parameterKeys();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) names.push_back(m->name());
  }
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  }
  return text;
}

}  // namespace kvs
