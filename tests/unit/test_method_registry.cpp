// The method registry: every method and parameter is described once and consistently, and the
// JSON records round-trip. (The CLI and the panel are built from it; their tests check the
// flags and fields.)

#include <gtest/gtest.h>

#include <set>

#include "compress/compression_method.h"
#include "compress/compression_params.h"
#include "compress/compression_policy.h"
#include "test_util.h"

namespace kvs {
namespace {

TEST(MethodRegistry, NamesAndParametersAreUniqueAndKnown) {
  std::set<std::string> names, flags, keys;
  for (const CompressionMethod* m : allMethods()) {
    EXPECT_TRUE(names.insert(m->name()).second) << m->name();
    EXPECT_FALSE(m->summary().empty() || m->reference().empty() || m->title().empty());
    for (const std::string& key : m->parameterKeys()) {
      EXPECT_NO_THROW(paramSpec(key)) << m->name() << " lists an unknown parameter " << key;
    }
  }
  EXPECT_EQ(names,
            (std::set<std::string>{"full", "streaming", "h2o", "cam", "kvmerger", "snapkv"}));
  for (const ParamSpec& s : allParams()) {
    EXPECT_TRUE(flags.insert(s.flag).second) << "flag --" << s.flag << " twice";
    EXPECT_TRUE(keys.insert(s.key).second) << "key " << s.key << " twice";
    EXPECT_FALSE(methodsReading(s.key).empty()) << s.key << " is read by no method";
    EXPECT_TRUE(s.accepts(s.get(CompressionParams{}))) << s.key << "'s default is out of range";
  }
}

TEST(MethodRegistry, SpecsParseTheirTextAndNameTheFlag) {
  EXPECT_EQ(paramSpec("recent").parse("0.25").get<double>(), 0.25);
  EXPECT_EQ(test::errorOf([] { paramSpec("recent").parse("-1"); }),
            "--recent: must be in [0, 1], got '-1'");
  EXPECT_EQ(test::errorOf([] { paramSpec("budget").parse("0"); }),
            "--budget: must be in (0, 1], got '0'");
  EXPECT_EQ(test::errorOf([] { paramSpec("sigma").parse("0"); }), "--sigma: must be > 0, got '0'");
  EXPECT_EQ(test::errorOf([] { paramSpec("snapkv_window").parse("1.5"); }),
            "--snapkv-window: must be a whole number in [1, 128], got '1.5'");
  EXPECT_EQ(paramSpec("skip_layers").parse("0,3").get<std::vector<int>>(),
            (std::vector<int>{0, 3}));
  EXPECT_EQ(test::errorOf([] { paramSpec("cam_base").parse("lru"); }),
            "--cam-base: must be one of: h2o, streaming, got 'lru'");
  EXPECT_EQ(paramSpec("seed").parse("18446744073709551615").get<uint64_t>(), UINT64_MAX);
}

TEST(MethodRegistry, JsonRecordsRoundTripForEveryMethod) {
  for (const CompressionMethod* m : allMethods()) {
    CompressionParams p;
    p.method = m->name();
    p.budget = 0.4;
    p.gqaReduction = GqaReduction::kMax;
    if (m->name() == "snapkv") p.options["snapkv_window"] = 16;
    if (m->name() == "kvmerger") p.skipLayers = {1};
    const nlohmann::json j = toJson(p);
    const CompressionParams back = paramsFromJson(j);
    EXPECT_EQ(toJson(back), j) << m->name();
    // Only the shared parameters and the method's own are recorded.
    EXPECT_EQ(j.contains("eps"), m->name() == "kvmerger") << m->name();
    EXPECT_EQ(j.contains("snapkv_window"), m->name() == "snapkv") << m->name();
  }
  EXPECT_NE(test::errorOf([] {
              paramsFromJson({{"method", "h2o"}, {"epsilon", 0.5}});
            }).find("unknown compression parameter 'epsilon'"),
            std::string::npos);
  EXPECT_NE(test::errorOf([] {
              paramsFromJson({{"method", "h2o"}, {"budget", "half"}});
            }).find("\"budget\" must be in (0, 1], got \"half\""),
            std::string::npos);
}

TEST(MethodRegistry, IgnoredParametersSayWhy) {
  CompressionParams p;
  p.method = "kvmerger";
  const CompressionMethod& merger = methodNamed("kvmerger");
  EXPECT_NE(merger.ignores("eps", p)->find("exact budget"), std::string::npos);
  p.exactBudget = false;
  EXPECT_FALSE(merger.ignores("eps", p));
  EXPECT_TRUE(methodNamed("h2o").ignores("eps", p));
  EXPECT_TRUE(methodNamed("streaming").ignores("gqa_reduction", p));
  EXPECT_FALSE(methodNamed("snapkv").ignores("snapkv_kernel", p));
  p.budgetTokens = 8;
  EXPECT_NE(merger.ignores("budget", p)->find("--budget-tokens"), std::string::npos);
}

}  // namespace
}  // namespace kvs
