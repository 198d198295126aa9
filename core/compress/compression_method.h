#pragma once
// The method registry. A compression method is one class in its own file under
// core/compress/methods/: its name, help and paper, the parameters it reads (with their specs),
// its checks and defaults, and its policy. Everything else — the CLI flags, the Parameters panel,
// compare's method list, the JSON/HDF5 parameter records, `kvstudio-cli methods` and the README's
// method table — asks the registry. Adding a method: its file plus one line in method_list.h.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compress/param_spec.h"

namespace kvs {

class CompressionPolicy;
struct CompressionParams;

class CompressionMethod {
 public:
  virtual ~CompressionMethod() = default;

  virtual std::string name() const = 0;       // "kvmerger": --method, JSON, file names
  virtual std::string title() const = 0;      // "KVMerger"
  virtual std::string summary() const = 0;    // one sentence: what it keeps, merges or evicts
  virtual std::string reference() const = 0;  // the paper (and the code it follows)
  // Keys of the parameters it reads: shared ones (sharedParams()) and its own.
  virtual std::vector<std::string> parameterKeys() const = 0;
  // Specs of parameters only it reads.
  virtual std::vector<ParamSpec> ownParams() const { return {}; }
  // Whether compare measures it by default.
  virtual bool comparedByDefault() const { return true; }
  // False only for the full cache, the reference every variant is measured against.
  virtual bool compresses() const { return true; }

  // Why the parameter `key` has no effect under p, to follow "--flag has no effect " (nullopt: it
  // has one). The default: a key not in parameterKeys() never has one; methods add conditions
  // ("with an exact budget (the default), which searches eps per head ...").
  virtual std::optional<std::string> ignores(const std::string& key,
                                             const CompressionParams& p) const;
  // Method-specific checks beyond the specs' ranges; KvsError naming the flag and the fix.
  virtual void validate(const CompressionParams& /*p*/) const {}
  // Recent and protected (heavy-hitter) fractions when the user gives none, for the budget used
  // (reports and validation), and the counts among S slots for a target of `target` slots
  // (the plan). The default: half the budget each, as H2O's code splits it.
  virtual double defaultRecentRatio(double budget) const { return budget / 2; }
  virtual double defaultProtectedRatio(double budget) const {
    return budget - defaultRecentRatio(budget);
  }
  virtual int defaultRecent(int target, int /*S*/) const { return target / 2; }
  virtual int defaultProtected(int target, int /*S*/, int recent) const { return target - recent; }
  // Whether the keys are re-assigned to the positions of their slots after compression.
  virtual bool usesCachePositions(const CompressionParams& /*p*/) const { return false; }
  // Whether it compresses at every decode step whatever decode_compression says (CaM streaming).
  virtual bool alwaysCompressesWhileDecoding(const CompressionParams& /*p*/) const { return false; }
  // Whether layer `layer` is compressed (KVMerger skips layers).
  virtual bool compressesLayer(const CompressionParams& /*p*/, int /*layer*/) const { return true; }
  // The policy carrying it out; nullptr for the full cache.
  virtual std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& p) const = 0;
};

// The base of a method carried out by the policy class P (constructed from the params).
template <typename P>
class MethodWithPolicy : public CompressionMethod {
 public:
  std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams& p) const override {
    return std::make_unique<P>(p);
  }
};

// The one instance of a method class, returned by its registration function.
template <typename M>
const CompressionMethod& theMethod() {
  static const M method;
  return method;
}

// Every method, in the registry's order (method_list.h).
const std::vector<const CompressionMethod*>& allMethods();
// The method of that name; KvsError listing the names otherwise.
const CompressionMethod& methodNamed(const std::string& name);

// Parameters every compressing method may read (budget, recent, GQA reduction, decode-time
// compression, ...), then every method's own, each key once.
const std::vector<ParamSpec>& sharedParams();
const std::vector<ParamSpec>& allParams();
// The spec of a key (KvsError for an unknown key).
const ParamSpec& paramSpec(const std::string& key);
// The methods listing a key, "cam" or "h2o, cam and kvmerger".
std::string methodsReading(const std::string& key);

}  // namespace kvs
