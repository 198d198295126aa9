#pragma once
// Every setting of KV-cache compression in one value, with the defaults of kvmerger-spec.md.
// Every ambiguity of the KVMerger paper is an option here, because exploring them is the point.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvs {

enum class SigmaMode {
  kFixed,         // sigma as given (paper's ablation picks 5)
  kMeanDistance,  // sigma = sum_j ||K[p]-K[j]|| / (sqrt(2) n)
  kLiteral,  // the printed formula: g with sigma0 = 1, sigma = sum_j g_j / (sqrt(2) n), recompute
};
enum class MergeLayout { kPerHead, kSharedPerLayer };
enum class GqaReduction { kMean, kSum, kMax };
// Where RoPE puts the kept keys of StreamingLLM (CaM on the streaming base always uses kCache).
enum class StreamingPositions {
  kOriginal,  // each key at its token's own position, queries at theirs (the KVMerger spec)
  kCache,     // re-assigned inside the cache: slot s at position s, queries next (the authors')
};
// What CaM keeps before merging the evicted values.
enum class CamBase {
  kH2O,        // recent + heavy hitters at prefill (the KVMerger paper's baseline)
  kStreaming,  // sinks + recent, one eviction and merge per decode step (the authors' code)
};

struct CompressionParams {
  // A registered method's name (compression_method.h): full, streaming, h2o, cam, kvmerger, snapkv.
  std::string method = "full";
  double budget = 0.5;      // fraction of the prompt's tokens kept per (layer, KV head), in (0, 1]
  int budgetTokens = 0;     // absolute slots per (layer, KV head); overrides budget when > 0
  bool exactBudget = true;  // KVMerger: bisect eps until the size fits (false: paper's approximate)
  // H2O / CaM / KVMerger: recent tokens never evicted or merged, as a fraction of the prompt.
  // Negative = the paper's default for the budget (KVMerger: 0.17 at 50%, 0.08 at 35%, the
  // latter for any budget below 42.5%;
  // H2O/CaM: half of the budget).
  double recentRatio = -1;
  // KVMerger: top-attention tokens outside the recent window kept as they are (paper: 0.12 at
  // 50%, 0.02 at 35%); H2O/CaM: heavy hitters (default: the other half of the budget).
  double protectedRatio = -1;
  double eps = 0.75;   // KVMerger: adjacent key cosine must exceed eps to merge (strict >)
  double sigma = 5.0;  // Gaussian kernel bandwidth (kFixed)
  SigmaMode sigmaMode = SigmaMode::kFixed;
  MergeLayout layout = MergeLayout::kPerHead;
  std::vector<int> skipLayers;  // layers kept full by KVMerger
  bool scaleValues = true;      // merged value = n * weighted mean (paper: on)
  bool logBias =
      false;  // +log(n) attention-logit bias on a slot merging n tokens (not in the paper)
  GqaReduction gqaReduction = GqaReduction::kMean;
  int sinkTokens = 4;  // StreamingLLM: first tokens always kept
  int camWindow = 32;  // CaM: kept tokens that receive an evicted value
  CamBase camBase = CamBase::kH2O;
  StreamingPositions positions = StreamingPositions::kOriginal;
  uint64_t seed = 0;  // CaM's Bernoulli draws
  // Compress during decoding too: once a head holds decodeChunk slots more than its size right
  // after the prompt was compressed, compress it back to that size (H2O's official code evicts
  // one per step: chunk 1).
  bool decodeCompression = false;
  int decodeChunk = 1;
  // Absolute recent / protected counts; >= 0 overrides the fractions (decode-time compression
  // freezes the prompt's counts here so they do not grow with every decoded token).
  int fixedRecent = -1;
  int fixedProtected = -1;
  // The parameters of methods that own them by key (ParamSpec own*Param), e.g. SnapKV's window;
  // unset keys take their spec's default.
  nlohmann::json options = nlohmann::json::object();

  // Throws KvsError naming the parameter and its allowed range (every spec of allParams(), then
  // the method's own checks).
  void validate() const;
  // The checks that need the model: layer indices below its layer count; positions inside the
  // cache re-rotated at every decode step need a float32 cache (fp16/bf16 would round the
  // recent keys again at each step).
  void validateForModel(int nLayers, bool float32Cache = true) const;
  // Slots per (layer, head) for a prompt of T tokens.
  int targetSlots(int T) const;
  double effectiveRecentRatio() const;
  double effectiveProtectedRatio() const;
  // Recent and protected (KVMerger) / heavy-hitter (H2O, CaM) slots for S slots, from the fixed
  // counts, the fractions given, or the paper's defaults for the budget actually used.
  int recentCount(int S) const;
  int protectedCount(int S) const;
};

// A short name for files and groups: "full", "kvmerger_0.50", "h2o_128tok".
std::string variantName(const CompressionParams& p);
// The names of an enum's values in its order, for choice parameters (ParamSpec).
std::vector<std::string> choiceNames(SigmaMode);
std::vector<std::string> choiceNames(MergeLayout);
std::vector<std::string> choiceNames(GqaReduction);
std::vector<std::string> choiceNames(StreamingPositions);
std::vector<std::string> choiceNames(CamBase);
const char* toString(SigmaMode m);
const char* toString(MergeLayout m);
const char* toString(GqaReduction m);
const char* toString(StreamingPositions m);
const char* toString(CamBase m);
// Parse user-facing names ("kvmerger", "mean-distance", "per-head", "mean", ...); KvsError lists
// the accepted names.
SigmaMode parseSigmaMode(const std::string& s);
MergeLayout parseMergeLayout(const std::string& s);
GqaReduction parseGqaReduction(const std::string& s);
StreamingPositions parseStreamingPositions(const std::string& s);
CamBase parseCamBase(const std::string& s);
// Whether the method changes the cache at all (every method but the full cache).
bool compresses(const CompressionParams& p);
// Whether the cache's keys are re-assigned to the positions of their slots: StreamingLLM with
// kCache, and CaM on the streaming base (as its authors' code does).
bool usesCachePositions(const CompressionParams& p);
// Whether the cache is compressed while decoding: decodeCompression, or CaM on the streaming
// base, which evicts and merges one token at every step.
bool compressesWhileDecoding(const CompressionParams& p);

// The method and the parameters it reads, by their spec keys (and decode_compression as it
// acts: on for a method that compresses at every step, off for the full cache).
nlohmann::json toJson(const CompressionParams& p);
// The inverse, for settings and plans: every key must be a known parameter with a valid value
// (KvsError naming the key); missing keys keep their defaults.
CompressionParams paramsFromJson(const nlohmann::json& j);

}  // namespace kvs
