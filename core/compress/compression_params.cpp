#include "compress/compression_params.h"

#include <cstdio>

#include <cmath>
#include <nlohmann/json.hpp>

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

const std::pair<const char*, Method> kMethods[] = {{"full", Method::kFull},
                                                   {"streaming", Method::kStreaming},
                                                   {"h2o", Method::kH2O},
                                                   {"cam", Method::kCaM},
                                                   {"kvmerger", Method::kKVMerger}};
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
const char* nameOf(E value, const std::pair<const char*, E> (&names)[N]) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "?";
}

}  // namespace

const char* toString(Method m) {
  return nameOf(m, kMethods);
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
bool usesCachePositions(const CompressionParams& p) {
  return (p.method == Method::kStreaming && p.positions == StreamingPositions::kCache) ||
         (p.method == Method::kCaM && p.camBase == CamBase::kStreaming);
}
bool compressesWhileDecoding(const CompressionParams& p) {
  return p.decodeCompression || (p.method == Method::kCaM && p.camBase == CamBase::kStreaming);
}
Method parseMethod(const std::string& s) {
  return parseName(s, "method", kMethods);
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
  if (recentRatio >= 0) return recentRatio;
  if (method == Method::kKVMerger) return budget < 0.425 ? 0.08 : 0.17;
  return budget / 2;
}

double CompressionParams::effectiveProtectedRatio() const {
  if (protectedRatio >= 0) return protectedRatio;
  if (method == Method::kKVMerger) return budget < 0.425 ? 0.02 : 0.12;
  return budget - effectiveRecentRatio();
}

namespace {
int roundedShare(double ratio, int S) {
  return static_cast<int>(std::lround(ratio * S));
}
}  // namespace

int CompressionParams::recentCount(int S) const {
  if (fixedRecent >= 0) return fixedRecent;
  if (recentRatio >= 0) return roundedShare(recentRatio, S);
  const int target = targetSlots(S);
  if (method != Method::kKVMerger) return target / 2;
  return roundedShare(double(target) / S < 0.425 ? 0.08 : 0.17, S);
}

int CompressionParams::protectedCount(int S) const {
  if (fixedProtected >= 0) return fixedProtected;
  if (protectedRatio >= 0) return roundedShare(protectedRatio, S);
  const int target = targetSlots(S);
  if (method != Method::kKVMerger) return target - recentCount(S);
  return roundedShare(double(target) / S < 0.425 ? 0.02 : 0.12, S);
}

int CompressionParams::targetSlots(int T) const {
  if (budgetTokens > 0) return std::min(budgetTokens, T);
  return std::max(1, std::min(T, static_cast<int>(std::lround(budget * T))));
}

void CompressionParams::validate() const {
  auto check = [](bool ok, const std::string& message) { require(ok, message); };
  check(std::isfinite(budget) && budget > 0 && budget <= 1,
        "budget must be in (0, 1] (a fraction of the prompt's tokens), got " +
            std::to_string(budget));
  check(budgetTokens >= 0, "budget-tokens must be >= 0, got " + std::to_string(budgetTokens));
  check(recentRatio < 0 || recentRatio <= 1,
        "recent must be in [0, 1], got " + std::to_string(recentRatio));
  check(protectedRatio < 0 || protectedRatio <= 1,
        "protected must be in [0, 1], got " + std::to_string(protectedRatio));
  check(std::isfinite(eps) && eps >= -1 && eps <= 1.0001,
        "eps must be in [-1, 1.0001] (a cosine threshold), got " + std::to_string(eps));
  check(std::isfinite(sigma) && sigma > 0, "sigma must be > 0, got " + std::to_string(sigma));
  check(sinkTokens >= 0, "sink-tokens must be >= 0, got " + std::to_string(sinkTokens));
  check(camWindow > 0, "cam-window must be > 0, got " + std::to_string(camWindow));
  check(decodeChunk > 0, "decode-chunk must be > 0, got " + std::to_string(decodeChunk));
  for (int l : skipLayers) check(l >= 0, "skip-layers must list layer indices >= 0");
  // Decode compression returns each head to its size after the prompt: an exact size.
  check(!(method == Method::kKVMerger && decodeCompression && !exactBudget),
        "compression while decoding keeps each head at its size after the prompt, which needs "
        "KVMerger's exact budget; drop --approximate-budget (eps is then searched per head)");
  // The authors' CaM evicts and merges one token per decode step.
  check(!(method == Method::kCaM && camBase == CamBase::kStreaming) || decodeChunk == 1,
        "CaM on the streaming base (the authors' code) evicts one token per decode step: drop "
        "--decode-chunk or set it to 1");
  // Both make a merged slot of n tokens weigh like n tokens in attention: together, n^2.
  check(!(logBias && scaleValues && method == Method::kKVMerger),
        "log-bias and value scaling both count a merged slot as its n tokens (together n times "
        "over); turn value scaling off (--no-value-scaling) to use log-bias");
  if (method != Method::kFull && budgetTokens == 0) {
    check(effectiveRecentRatio() + (method == Method::kStreaming ? 0 : effectiveProtectedRatio()) <=
              budget + 1e-9,
          "the budget " + std::to_string(budget) +
              " is smaller than the recent + protected tokens it must keep (" +
              std::to_string(effectiveRecentRatio()) + " + " +
              std::to_string(effectiveProtectedRatio()) +
              "); raise budget or lower recent/protected");
  }
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
  return nlohmann::json{
      {"method", toString(p.method)},
      {"budget", p.budget},
      {"budget_tokens", p.budgetTokens},
      {"exact_budget", p.exactBudget},
      // null: the paper's default for the budget (see recentCount)
      {"recent", p.recentRatio >= 0 ? nlohmann::json(p.recentRatio) : nullptr},
      {"protected", p.protectedRatio >= 0 ? nlohmann::json(p.protectedRatio) : nullptr},
      {"eps", p.eps},
      {"sigma", p.sigma},
      {"sigma_mode", toString(p.sigmaMode)},
      {"layout", toString(p.layout)},
      {"skip_layers", p.skipLayers},
      {"scale_values", p.scaleValues},
      {"log_bias", p.logBias},
      {"gqa_reduction", toString(p.gqaReduction)},
      {"sink_tokens", p.sinkTokens},
      {"cam_window", p.camWindow},
      {"cam_base", toString(p.camBase)},
      {"streaming_positions", toString(p.positions)},
      {"seed", p.seed},
      {"decode_compression", compressesWhileDecoding(p)},
      {"decode_chunk", p.decodeChunk}};
}

std::string variantName(const CompressionParams& p) {
  std::string name = toString(p.method);
  if (p.method == Method::kFull) return name;
  char budget[32];
  if (p.budgetTokens > 0) {
    std::snprintf(budget, sizeof budget, "_%dtok", p.budgetTokens);
  } else {
    std::snprintf(budget, sizeof budget, "_%.2f", p.budget);
  }
  return name + budget;
}

}  // namespace kvs
