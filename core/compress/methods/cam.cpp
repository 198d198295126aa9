#include "compress/methods/cam.h"

#include <algorithm>
#include <limits>

#include "cache/kv_cache.h"
#include "compress/compression_method.h"
#include "compress/compression_policy.h"
#include "compress/token_selection.h"
#include "util/error.h"

namespace kvs {
namespace {

// SplitMix64's finaliser: a well-mixed 64-bit value from any input.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

double camDraw(uint64_t seed, int layer, int head, int position) {
  // Keyed by the evicted token itself, not by the call: with compression at every decode step a
  // generator seeded per (layer, head) and call would hand every step the same first draw.
  uint64_t x = mix(seed);
  x = mix(x ^ static_cast<uint32_t>(layer));
  x = mix(x ^ static_cast<uint32_t>(head));
  x = mix(x ^ static_cast<uint32_t>(position));
  return static_cast<double>(x >> 11) * 0x1.0p-53;  // 53 random bits in [0, 1)
}

namespace {

class CaMPolicy : public CompressionPolicy {
 public:
  using CompressionPolicy::CompressionPolicy;
  std::vector<HeadPlan> planLayer(const KvCache& cache, int layer) const override;
};

}  // namespace

std::vector<HeadPlan> CaMPolicy::planLayer(const KvCache& cache, int l) const {
  const bool streamingBase = params_.camBase == CamBase::kStreaming;
  std::vector<HeadPlan> heads;
  for (int h = 0; h < cache.nKvHeads(); ++h) {
    const auto& old = cache.cells(l, h);
    const int S = static_cast<int>(old.size());
    const std::vector<char> keep =
        streamingBase ? sinksAndRecent(S, params_.targetSlots(S), params_.sinkTokens)
                      : recentAndHeavy(old, params_);
    const std::vector<int> kept = keptIndices(keep);
    // Each evicted slot e, with probability clamp(A[e] / mean A of the m kept slots after it,
    // 0, 1), adds V[e] / m to those m values; its key is dropped. On the streaming base, as in
    // the authors' kv_cache_cam.py, only the token just before the recent window (the one a
    // decode step evicts) may merge; older ones evicted with it are dropped.
    std::vector<std::vector<std::pair<int, float>>> extra(kept.size());  // per kept slot
    int lastEvicted = -1;
    for (int e = 0; e < S; ++e) lastEvicted = keep[e] ? lastEvicted : e;
    for (int e = 0; e < S; ++e) {
      if (keep[e] || (streamingBase && e != lastEvicted)) continue;
      const auto next = std::upper_bound(kept.begin(), kept.end(), e);
      const int m = std::min<int>(params_.camWindow, kept.end() - next);
      if (m == 0) continue;
      double mean = 0;
      for (int k = 0; k < m; ++k) mean += old[next[k]].attention / m;
      const double p = mean > 0 ? std::clamp(old[e].attention / mean, 0.0, 1.0) : 0.0;
      if (camDraw(params_.seed, l, h, old[e].first) >= p) continue;
      const size_t first = next - kept.begin();
      for (int k = 0; k < m; ++k) extra[first + k].push_back({e, 1.0f / m});
    }
    HeadPlan head;
    for (size_t k = 0; k < kept.size(); ++k) {
      head.addEntry(kept[k], 1.0f, 1.0f);
      for (const auto& [e, w] : extra[k]) head.addEntry(e, 0.0f, w);
      head.closeSlot(old[kept[k]]);
    }
    heads.push_back(std::move(head));
  }
  return heads;
}

namespace {

class CaMMethod : public MethodWithPolicy<CaMPolicy> {
 public:
  std::string name() const override { return "cam"; }
  std::string title() const override { return "CaM"; }
  std::string summary() const override {
    return "Keeps what H2O keeps (or, on the streaming base, what StreamingLLM keeps) and merges "
           "each evicted value into the kept values after it, with a probability from its "
           "attention.";
  }
  std::string reference() const override {
    return "Zhang et al., ICML 2024 (CaM: cache merging); zyxxmu/cam";
  }
  std::vector<std::string> parameterKeys() const override {
    return {"budget",        "budget_tokens",      "recent",      "protected",
            "cam_window",    "cam_base",           "sink_tokens", "seed",
            "gqa_reduction", "decode_compression", "decode_chunk"};
  }
  std::vector<ParamSpec> ownParams() const override {
    ParamSpec seed{"cam-seed", "seed", "CaM seed", "CaM: seed of its Bernoulli draws (default 0)",
                   ParamKind::kSeed};
    seed.get = [](const CompressionParams& p) { return nlohmann::json(p.seed); };
    seed.set = [](CompressionParams& p, const nlohmann::json& v) { p.seed = v.get<uint64_t>(); };
    return {wholeParam("cam-window", "cam_window", "CaM window",
                       "CaM: kept tokens an evicted value merges into (default 32; 16 with "
                       "--cam-base streaming, as the authors' streaming code)",
                       1, std::numeric_limits<int>::max(), &CompressionParams::camWindow),
            choiceParam("cam-base", "cam_base", "CaM base",
                        "CaM: h2o (recent + heavy hitters at prefill, the KVMerger paper's "
                        "baseline) or streaming (sinks + recent, one eviction and merge per "
                        "decode step, positions inside the cache: the authors' streaming code)",
                        choiceNames(CamBase{}), &CompressionParams::camBase),
            seed};
  }
  std::optional<std::string> ignores(const std::string& key,
                                     const CompressionParams& p) const override {
    const bool streamingBase = p.camBase == CamBase::kStreaming;
    if (key == "sink_tokens" && !streamingBase) {
      return "with --cam-base h2o: CaM keeps sinks only on the streaming base (--cam-base "
             "streaming)";
    }
    if ((key == "recent" || key == "protected") && streamingBase) {
      return "with --cam-base streaming, which keeps the sinks and the recent tokens up to the "
             "budget";
    }
    return CompressionMethod::ignores(key, p);
  }
  void validate(const CompressionParams& p) const override {
    // The authors' CaM evicts and merges one token per decode step.
    require(p.camBase != CamBase::kStreaming || p.decodeChunk == 1,
            "CaM on the streaming base (the authors' code) evicts one token per decode step: drop "
            "--decode-chunk or set it to 1");
  }
  bool usesCachePositions(const CompressionParams& p) const override {
    return p.camBase == CamBase::kStreaming;
  }
  bool alwaysCompressesWhileDecoding(const CompressionParams& p) const override {
    return p.camBase == CamBase::kStreaming;
  }
};

}  // namespace

const CompressionMethod& camMethod() {
  return theMethod<CaMMethod>();
}

}  // namespace kvs
