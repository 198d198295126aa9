// The full cache: nothing evicted or merged; the reference every variant is measured against.

#include "compress/compression_method.h"
#include "compress/compression_policy.h"

namespace kvs {
namespace {

class FullMethod : public CompressionMethod {
 public:
  std::string name() const override { return "full"; }
  std::string title() const override { return "Full cache"; }
  std::string summary() const override {
    return "Keeps every token; the reference every other method is measured against.";
  }
  std::string reference() const override { return "-"; }
  std::vector<std::string> parameterKeys() const override { return {}; }
  bool compresses() const override { return false; }
  std::unique_ptr<CompressionPolicy> makePolicy(const CompressionParams&) const override {
    return nullptr;
  }
};

}  // namespace

const CompressionMethod& fullMethod() {
  return theMethod<FullMethod>();
}

}  // namespace kvs
