#include "naive_hf_reference.h"

#include <ATen/ATen.h>

#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "model/hf_checkpoint.h"
#include "test_util.h"

namespace kvs::test {
namespace {

using Vec = std::vector<double>;

// A tensor of the folder as doubles, row-major.
struct Tensors {
  const HfCheckpoint& ck;
  std::map<std::string, Vec> cache;
  bool has(const std::string& name) const {
    try {
      ck.tensor(name);
      return true;
    } catch (...) {
      return false;
    }
  }
  const Vec& operator()(const std::string& name) {
    auto it = cache.find(name);
    if (it != cache.end()) return it->second;
    const at::Tensor t = ck.tensor(name).to(at::kDouble).contiguous();
    const double* p = t.data_ptr<double>();
    return cache[name] = Vec(p, p + t.numel());
  }
};

// out[o] = sum_i w[o * cols + i] x[i] (+ bias[o])
Vec matvec(const Vec& w, const Vec& x, const Vec* bias = nullptr) {
  const size_t cols = x.size(), rows = w.size() / cols;
  Vec out(rows, 0.0);
  for (size_t o = 0; o < rows; ++o) {
    double sum = bias ? (*bias)[o] : 0.0;
    for (size_t i = 0; i < cols; ++i) sum += w[o * cols + i] * x[i];
    out[o] = sum;
  }
  return out;
}

// RMSNorm of x[begin, begin + n) in place: x / sqrt(mean(x^2) + eps) * w
void rmsnorm(Vec& x, size_t begin, size_t n, const Vec& w, double eps) {
  double ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[begin + i] * x[begin + i];
  const double scale = 1.0 / std::sqrt(ss / n + eps);
  for (size_t i = 0; i < n; ++i) x[begin + i] = w[i] * (x[begin + i] * scale);
}

// Inverse frequencies theta^(-2i/D); with Llama 3.1's scaling each is looked at by its
// wavelength 2 pi / f against the trained context: short waves stay, long ones slow down by
// `factor`, and the band between is a linear blend of the two in original / wavelength.
Vec inverseFrequencies(int D, double theta, const nlohmann::json& scaling, bool drop) {
  Vec f(D / 2);
  for (int i = 0; i < D / 2; ++i) f[i] = std::pow(theta, -2.0 * i / D);
  if (drop || !scaling.is_object() || scaling.value("rope_type", "") != "llama3") return f;
  const double factor = scaling.at("factor"), lowF = scaling.at("low_freq_factor"),
               highF = scaling.at("high_freq_factor"),
               original = scaling.at("original_max_position_embeddings");
  for (double& x : f) {
    const double wave = 2 * M_PI / x;
    if (wave < original / highF) continue;
    if (wave > original / lowF) {
      x /= factor;
      continue;
    }
    const double blend = (original / wave - lowF) / (highF - lowF);  // 0 at long, 1 at short
    x = blend * x + (1 - blend) * x / factor;
  }
  return f;
}

// Rotate-half RoPE of every head of v [H * D]: dims i and i + D/2 form a pair.
void rope(Vec& v, int heads, int D, int pos, const Vec& freqs) {
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < D / 2; ++i) {
      const double angle = pos * freqs[i], c = std::cos(angle), s = std::sin(angle);
      double& a = v[h * D + i];
      double& b = v[h * D + i + D / 2];
      const double a0 = a, b0 = b;
      a = a0 * c - b0 * s;
      b = b0 * c + a0 * s;
    }
  }
}

}  // namespace

ReferenceResult referenceForward(const std::string& folder, const std::vector<int>& tokens,
                                 const ReferenceDrops& drops) {
  const nlohmann::json cfg = nlohmann::json::parse(readFile(folder + "/config.json"));
  const std::string arch = cfg.at("architectures")[0];
  const int C = cfg.at("hidden_size"), F = cfg.at("intermediate_size");
  const int L = cfg.at("num_hidden_layers"), Hq = cfg.at("num_attention_heads");
  const int Hkv = cfg.at("num_key_value_heads"), V = cfg.at("vocab_size");
  const int D =
      cfg.contains("head_dim") && !cfg["head_dim"].is_null() ? int(cfg["head_dim"]) : C / Hq;
  const double eps = cfg.at("rms_norm_eps"), theta = cfg.at("rope_theta");
  const bool tied = cfg.value("tie_word_embeddings", false);
  const bool bias = arch == "Qwen2ForCausalLM" && !drops.qkvBias;
  const bool qkNorm = arch == "Qwen3ForCausalLM" && !drops.qkNorm;
  int window = 0;
  if (arch == "MistralForCausalLM" && !cfg["sliding_window"].is_null() && !drops.slidingWindow)
    window = cfg["sliding_window"];
  const Vec freqs =
      inverseFrequencies(D, theta, cfg.value("rope_scaling", nlohmann::json()), drops.ropeScaling);

  const HfCheckpoint ck = HfCheckpoint::open(folder);
  Tensors w{ck, {}};
  const Vec& emb = w("model.embed_tokens.weight");
  const Vec& cls = tied ? emb : w("lm_head.weight");
  const int G = Hq / Hkv;
  std::vector<std::vector<Vec>> keys(L), values(L);  // [L][pos][Hkv * D]
  std::vector<std::vector<double>> logits;
  for (int pos = 0; pos < static_cast<int>(tokens.size()); ++pos) {
    Vec x(emb.begin() + size_t(tokens[pos]) * C, emb.begin() + size_t(tokens[pos] + 1) * C);
    for (int l = 0; l < L; ++l) {
      const std::string p = "model.layers." + std::to_string(l) + ".";
      Vec h = x;
      rmsnorm(h, 0, C, w(p + "input_layernorm.weight"), eps);
      auto proj = [&](const char* name) {
        const std::string b = p + "self_attn." + name + ".bias";
        return matvec(w(p + "self_attn." + name + ".weight"), h, bias ? &w(b) : nullptr);
      };
      Vec q = proj("q_proj"), k = proj("k_proj"), v = proj("v_proj");
      if (qkNorm) {
        for (int hd = 0; hd < Hq; ++hd)
          rmsnorm(q, hd * D, D, w(p + "self_attn.q_norm.weight"), eps);
        for (int hd = 0; hd < Hkv; ++hd)
          rmsnorm(k, hd * D, D, w(p + "self_attn.k_norm.weight"), eps);
      }
      rope(q, Hq, D, pos, freqs);
      rope(k, Hkv, D, pos, freqs);
      keys[l].push_back(k);
      values[l].push_back(v);

      const int first = window > 0 ? std::max(0, pos - window + 1) : 0;
      Vec att(size_t(Hq) * D, 0.0);
      for (int hd = 0; hd < Hq; ++hd) {
        const int kvh = hd / G;
        Vec scores(pos + 1 - first);
        double top = -INFINITY;
        for (int t = first; t <= pos; ++t) {
          double s = 0;
          for (int d = 0; d < D; ++d) s += q[hd * D + d] * keys[l][t][kvh * D + d];
          scores[t - first] = s / std::sqrt(double(D));
          top = std::max(top, scores[t - first]);
        }
        double total = 0;
        for (double& s : scores) total += (s = std::exp(s - top));
        for (int t = first; t <= pos; ++t) {
          for (int d = 0; d < D; ++d)
            att[hd * D + d] += scores[t - first] / total * values[l][t][kvh * D + d];
        }
      }
      const Vec o = matvec(w(p + "self_attn.o_proj.weight"), att);
      for (int i = 0; i < C; ++i) x[i] += o[i];

      Vec h2 = x;
      rmsnorm(h2, 0, C, w(p + "post_attention_layernorm.weight"), eps);
      Vec gate = matvec(w(p + "mlp.gate_proj.weight"), h2);
      const Vec up = matvec(w(p + "mlp.up_proj.weight"), h2);
      for (int i = 0; i < F; ++i) gate[i] = gate[i] / (1.0 + std::exp(-gate[i])) * up[i];
      const Vec down = matvec(w(p + "mlp.down_proj.weight"), gate);
      for (int i = 0; i < C; ++i) x[i] += down[i];
    }
    rmsnorm(x, 0, C, w("model.norm.weight"), eps);
    logits.push_back(matvec(cls, x));
    (void)V;
  }
  return {logits, keys};
}

}  // namespace kvs::test
