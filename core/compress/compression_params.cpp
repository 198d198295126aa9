#include "compress/compression_params.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "compress/compression_method.h"
#include "util/error.h"

namespace kvs {
namespace {

template <typename E, size_t N>
E parseName(const std::string& s, const char* what, const std::pair<const char*, E> (&names)[N]) {
  std::string accepted;
  for (const auto& [name, value] : names) {
    if (s == name) return value;
    accepted += std::string(accepted.empty() ? "" : ", ") + name;
  }
  throw KvsError(std::string("unknown ") + what + " '" + s + "'; use one of: " + accepted);
}

const std::pair<const char*, SigmaMode> kSigmaModes[] = {
    {"fixed", SigmaMode::kFixed},
    {"mean-distance", SigmaMode::kMeanDistance},
    {"literal", SigmaMode::kLiteral}};
const std::pair<const char*, MergeLayout> kLayouts[] = {{"per-head", MergeLayout::kPerHead},
                                                        {"shared", MergeLayout::kSharedPerLayer}};
const std::pair<const char*, GqaReduction> kReductions[] = {
    {"mean", GqaReduction::kMean}, {"sum", GqaReduction::kSum}, {"max", GqaReduction::kMax}};

const std::pair<const char*, StreamingPositions> kPositions[] = {
    {"original", StreamingPositions::kOriginal}, {"cache", StreamingPositions::kCache}};
const std::pair<const char*, CamBase> kCamBases[] = {{"h2o", CamBase::kH2O},
                                                     {"streaming", CamBase::kStreaming}};

template <typename E, size_t N>
std::vector<std::string> namesOf(const std::pair<const char*, E> (&names)[N]) {
  std::vector<std::string> out;
  for (const auto& [name, value] : names) out.push_back(name);
  return out;
}

template <typename E, size_t N>
const char* nameOf(E value, const std::pair<const char*, E> (&names)[N]) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

}  // namespace

std::vector<std::string> choiceNames(SigmaMode) {
  return namesOf(kSigmaModes);
}
std::vector<std::string> choiceNames(MergeLayout) {
  return namesOf(kLayouts);
}
std::vector<std::string> choiceNames(GqaReduction) {
  return namesOf(kReductions);
}
std::vector<std::string> choiceNames(StreamingPositions) {
  return namesOf(kPositions);
}
std::vector<std::string> choiceNames(CamBase) {
  return namesOf(kCamBases);
}

const char* toString(SigmaMode m) {
  return nameOf(m, kSigmaModes);
}
const char* toString(MergeLayout m) {
  return nameOf(m, kLayouts);
}
const char* toString(GqaReduction m) {
  return nameOf(m, kReductions);
}
const char* toString(StreamingPositions m) {
  return nameOf(m, kPositions);
}
const char* toString(CamBase m) {
  return nameOf(m, kCamBases);
}
StreamingPositions parseStreamingPositions(const std::string& s) {
  return parseName(s, "streaming positions", kPositions);
}
CamBase parseCamBase(const std::string& s) {
  return parseName(s, "CaM base", kCamBases);
}
bool compresses(const CompressionParams& p) {
  return methodNamed(p.method).compresses();
}
bool usesCachePositions(const CompressionParams& p) {
  return methodNamed(p.method).usesCachePositions(p);
}
bool compressesWhileDecoding(const CompressionParams& p) {
  const CompressionMethod& m = methodNamed(p.method);
  return m.compresses() && (p.decodeCompression || m.alwaysCompressesWhileDecoding(p));
}
SigmaMode parseSigmaMode(const std::string& s) {
  return parseName(s, "sigma mode", kSigmaModes);
}
MergeLayout parseMergeLayout(const std::string& s) {
  return parseName(s, "layout", kLayouts);
}
GqaReduction parseGqaReduction(const std::string& s) {
  return parseName(s, "GQA reduction", kReductions);
}

double CompressionParams::effectiveRecentRatio() const {
  return recentRatio >= 0 ? recentRatio : methodNamed(method).defaultRecentRatio(budget);
}

double CompressionParams::effectiveProtectedRatio() const {
  return protectedRatio >= 0 ? protectedRatio : methodNamed(method).defaultProtectedRatio(budget);
}

namespace {
int roundedShare(double ratio, int S) {
  return static_cast<int>(std::lround(ratio * S));
}
}  // namespace

int CompressionParams::recentCount(int S) const {
  if (fixedRecent >= 0) return fixedRecent;
  if (recentRatio >= 0) return roundedShare(recentRatio, S);
  return methodNamed(method).defaultRecent(targetSlots(S), S);
}

int CompressionParams::protectedCount(int S) const {
  if (fixedProtected >= 0) return fixedProtected;
  if (protectedRatio >= 0) return roundedShare(protectedRatio, S);
  return methodNamed(method).defaultProtected(targetSlots(S), S, recentCount(S));
}

int CompressionParams::targetSlots(int T) const {
  if (budgetTokens > 0) return std::min(budgetTokens, T);
  return std::max(1, std::min(T, static_cast<int>(std::lround(budget * T))));
}

void CompressionParams::validate() const {
  const CompressionMethod& m = methodNamed(method);  // an unknown name lists the known ones
  for (const ParamSpec& spec : allParams()) {
    const nlohmann::json value = spec.get(*this);
    require(spec.accepts(value), spec.key + " " + spec.rangeText() + ", got " + value.dump());
  }
  m.validate(*this);
  if (!m.compresses() || budgetTokens > 0) return;
  const auto keys = m.parameterKeys();
  const bool heavy = std::find(keys.begin(), keys.end(), "protected") != keys.end();
  require(effectiveRecentRatio() + (heavy ? effectiveProtectedRatio() : 0) <= budget + 1e-9,
          "the budget " + std::to_string(budget) +
              " is smaller than the recent + protected tokens it must keep (" +
              std::to_string(effectiveRecentRatio()) + " + " +
              std::to_string(effectiveProtectedRatio()) +
              "); raise budget or lower recent/protected");
}

void CompressionParams::validateForModel(int nLayers, bool float32Cache) const {
  validate();
  require(float32Cache || !(usesCachePositions(*this) && compressesWhileDecoding(*this)),
          "positions inside the cache with compression while decoding turn the recent keys at "
          "every step, and an fp16/bf16 cache would round them again each time; use --kv-dtype "
          "fp32");
  for (int l : skipLayers) {
    require(l < nLayers, "skip-layers lists layer " + std::to_string(l) + ", but the model has " +
                             std::to_string(nLayers) + " layers (0 to " +
                             std::to_string(nLayers - 1) + ")");
  }
}

nlohmann::json toJson(const CompressionParams& p) {
  const CompressionMethod& m = methodNamed(p.method);
  nlohmann::json j{{"method", p.method}};
  for (const std::string& key : m.parameterKeys()) j[key] = paramSpec(key).get(p);
  // null: the method's default for the budget (see recentCount)
  for (const char* key : {"recent", "protected"}) {
    if (j.contains(key) && j[key].get<double>() < 0) j[key] = nullptr;
  }
  j["decode_compression"] = compressesWhileDecoding(p);
  return j;
}

CompressionParams paramsFromJson(const nlohmann::json& j) {
  require(j.is_object(), "compression parameters must be a JSON object");
  CompressionParams p;
  for (const auto& [key, value] : j.items()) {
    if (key == "method") {
      require(value.is_string(), "\"method\" must be a method's name");
      p.method = methodNamed(value.get<std::string>()).name();
      continue;
    }
    const ParamSpec& spec = paramSpec(key);              // KvsError for an unknown key
    if (value.is_null() && spec.unsetBelowLo) continue;  // the default
    require(spec.accepts(value), "\"" + key + "\" " + spec.rangeText() + ", got " + value.dump());
    spec.set(p, value);
  }
  p.validate();
  return p;
}

std::string variantName(const CompressionParams& p) {
  std::string name = p.method;
  if (!compresses(p)) return name;
  char budget[32];
  if (p.budgetTokens > 0) {
    std::snprintf(budget, sizeof budget, "_%dtok", p.budgetTokens);
  } else {
    std::snprintf(budget, sizeof budget, "_%.2f", p.budget);
  }
  return name + budget;
}

}  // namespace kvs
