// A parameter swept over values, as --sweep writes it: ranges and lists against values written
// out by hand, and every refusal naming the fix.

#include <gtest/gtest.h>

#include "compress/param_sweep.h"
#include "test_util.h"

namespace kvs::test {
namespace {

void expectRefused(const std::string& text, const std::string& needle) {
  const std::string message = errorOf([&] { parseParamSweep(text); });
  EXPECT_NE(message.find(needle), std::string::npos) << text << ": " << message;
}

TEST(ParamSweep, RangesAndListsGiveTheValuesWrittenOut) {
  const ParamSweep budget = parseParamSweep("budget=0.1:0.9:9");
  EXPECT_EQ(budget.key, "budget");
  const std::vector<double> expected = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  ASSERT_EQ(budget.values.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(budget.values[i].get<double>(), expected[i]) << i;  // exactly: 0.3, not 0.30..04
  }
  const ParamSweep down = parseParamSweep("budget=0.9:0.5:3");
  EXPECT_EQ(down.values, (std::vector<nlohmann::json>{0.9, 0.7, 0.5}));
  const ParamSweep sigma = parseParamSweep("sigma=1,2,3.5,5");
  EXPECT_EQ(sigma.values, (std::vector<nlohmann::json>{1.0, 2.0, 3.5, 5.0}));
  const ParamSweep chunk = parseParamSweep("decode-chunk=1:7:4");  // the flag works as the key
  EXPECT_EQ(chunk.key, "decode_chunk");
  EXPECT_EQ(chunk.values, (std::vector<nlohmann::json>{1, 3, 5, 7}));
  EXPECT_EQ(parseParamSweep("recent=0.05").values.size(), 1u);
}

TEST(ParamSweep, AppliesToTheMethodsThatReadIt) {
  CompressionParams base;
  base.method = "kvmerger";
  base.budgetTokens = 40;
  const ParamSweep budget = parseParamSweep("budget=0.2,0.4");
  const CompressionParams p = withSweepValue(base, budget, 1);
  EXPECT_EQ(p.budget, 0.4);
  EXPECT_EQ(p.budgetTokens, 0);  // the swept ratio applies, not the slots
  EXPECT_EQ(withSweepValue(base, parseParamSweep("sigma=1,7"), 1).sigma, 7.0);
  base.method = "h2o";
  const std::string message =
      errorOf([&] { withSweepValue(base, parseParamSweep("sigma=1,7"), 0); });
  EXPECT_NE(message.find("--sweep sigma=1,7 has no effect for h2o"), std::string::npos) << message;
  EXPECT_NE(message.find("kvmerger"), std::string::npos) << message;
  EXPECT_EQ(sweepAxisValue(budget, 0), 0.2);
}

TEST(ParamSweep, RefusalsNameTheFix) {
  expectRefused("budget", "write NAME=FROM:TO:POINTS or NAME=V1,V2");
  expectRefused("=0.5", "write NAME=FROM:TO:POINTS");
  expectRefused("frobnicate=1,2", "no parameter 'frobnicate'; sweep one of: budget");
  expectRefused("budget=0.1:0.9", "a range is FROM:TO:POINTS");
  expectRefused("budget=0.1:0.9:1", "from 2 to 1000");
  expectRefused("budget=0.1:0.9:2.5", "from 2 to 1000");
  expectRefused("budget=0.1:x:3", "the end 'x' is not a number");
  expectRefused("budget=0:0.5:3", "is outside budget's range");
  expectRefused("budget=0.5,1.5", "--sweep budget=0.5,1.5: --budget: must be in (0, 1]");
  expectRefused("budget=0.5,0.5", "0.5 is given twice");
  expectRefused("budget=0.5,", "an empty value");
  expectRefused("decode_chunk=1:2:3", "not a whole number");
}

}  // namespace
}  // namespace kvs::test
