#include "session/prefill_from_recording.h"

#include <ATen/ATen.h>

#include <nlohmann/json.hpp>

#include "compress/merging_sets.h"
#include "util/error.h"

namespace kvs {

ModelConfig recordedConfig(const RecordingInfo& info) {
  ModelConfig c;
  try {
    const nlohmann::json j = nlohmann::json::parse(info.modelConfigJson);
    c.dim = j.at("dim").get<int>();
    c.hiddenDim = j.value("hidden_dim", 0);
    c.nLayers = j.at("n_layers").get<int>();
    c.nHeads = j.at("n_heads").get<int>();
    c.nKvHeads = j.at("n_kv_heads").get<int>();
    c.vocabSize = j.value("vocab_size", 0);
    c.seqLen = j.at("seq_len").get<int>();
    c.ropeTheta = j.value("rope_theta", c.ropeTheta);
    c.normEps = j.value("norm_eps", c.normEps);
    readRecordedExtras(j, c);  // Qwen3's head_dim, Llama 3's rope_scaling: the cache turns keys
    // The cache turns keys with the model's RoPE pairing (positions inside the cache).
    const std::string style = j.value("rope_style", std::string(toString(c.ropeStyle)));
    require(
        style == toString(RopeStyle::kAdjacentPairs) || style == toString(RopeStyle::kHalfSplit),
        "the recording's model_config has an unknown rope_style '" + style +
            "'; the file is damaged or from a newer version");
    c.ropeStyle = style == toString(RopeStyle::kHalfSplit) ? RopeStyle::kHalfSplit
                                                           : RopeStyle::kAdjacentPairs;
  } catch (const nlohmann::json::exception& e) {
    throw KvsError("the recording's /meta model_config is not readable (" + std::string(e.what()) +
                   "); record again with this version of KV Studio");
  }
  require(c.nLayers == info.layers && c.nKvHeads == info.kvHeads && c.nHeads > 0 &&
              c.nHeads % c.nKvHeads == 0 && c.headDim() == info.headDim,
          "the recording's model_config disagrees with its datasets; the file is damaged");
  return c;
}

RecordedPrefill prefillFromRecording(const RecordingReader& reader, const KeepGoing& keepGoing,
                                     int64_t attentionLimitBytes) {
  const RecordingInfo& info = reader.info();
  const ModelConfig c = recordedConfig(info);
  const int P = info.promptTokens;
  require(P > 0, "the recording holds no prompt tokens");
  require(info.tokens >= P, "the recording holds the states of " + std::to_string(info.tokens) +
                                " of the prompt's " + std::to_string(P) +
                                " tokens (it was stopped during the prefill); record it again");
  // A cut file can hold the prompt's states but not its ids; a prompt is shown by its ids.
  require(int64_t(info.tokenIds.size()) >= P,
          "the recording holds the token ids of " + std::to_string(info.tokenIds.size()) +
              " of the prompt's " + std::to_string(P) +
              " tokens (it was cut short), so its prompt cannot be shown; record it again");
  const std::vector<int> ids(info.tokenIds.begin(), info.tokenIds.begin() + P);
  RecordedPrefill out{PrefillState{ids, {KvCache(c), KvCache(c), KvCache(c)}, {}, {}, {}, {}, 0},
                      c};
  PrefillState& s = out.state;
  out.hasKeysPreRope = reader.has(StateSource::kKeysPrerope);
  out.hasValues = reader.has(StateSource::kValues);
  out.hasAttention = info.hasAttention;

  const auto prompt = [&](StateSource source, int l) {  // [Hkv, P, D]
    return reader.states(source, l).narrow(1, 0, P).contiguous();
  };
  // The prompt's accumulated attention, as the live prefill's trackers sum it, fed layer by layer;
  // the matrices themselves are kept only within the live prefill's limit.
  const bool keepAttention =
      int64_t(c.nLayers) * c.nHeads * int64_t(P) * P * 4 <= attentionLimitBytes;
  PromptAttention gathered(c.groupSize());
  KvCache& cache = s.caches[0];
  cache.beginAppend(P);
  for (int l = 0; l < c.nLayers; ++l) {
    if (keepGoing && !keepGoing()) throw KvsError("cancelled");
    const at::Tensor k = prompt(StateSource::kKeys, l);
    const at::Tensor v = out.hasValues ? prompt(StateSource::kValues, l) : at::zeros_like(k);
    cache.write(l, k.transpose(0, 1), v.transpose(0, 1));  // [P, Hkv, D] each
    if (out.hasKeysPreRope) s.keysPreRope.push_back(prompt(StateSource::kKeysPrerope, l));
    if (out.hasAttention) {
      const at::Tensor attention = reader.attention(l);  // [Hq, P, P]
      gathered.add(l, attention);
      if (keepAttention) s.attention.push_back(attention);
    }
    std::vector<std::vector<float>> heads;
    for (int h = 0; h < c.nKvHeads; ++h) heads.push_back(adjacentCosine(k[h]));
    s.adjacentCos.push_back(std::move(heads));
  }
  cache.commit();
  gathered.install(s);

  return out;
}

}  // namespace kvs
