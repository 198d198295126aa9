#include "eval/needle_records.h"

#include <algorithm>

#include "compress/compression_params.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

template <typename T>
void addUnique(std::vector<T>& values, const T& value) {
  if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
}

}  // namespace

NeedleRun needleRunOfRecords(const std::vector<nlohmann::json>& records) {
  NeedleRun run;
  std::vector<nlohmann::json> params;
  for (size_t i = 0; i < records.size(); ++i) {
    const nlohmann::json& r = records[i];
    if (r.value("task", "") != "needle") continue;
    require(r.contains("length") && r.contains("depth") && r.contains("params"),
            "needle record " + std::to_string(i + 1) +
                " has no length, depth or params; the file is not a needle run's");
    addUnique(run.lengths, r.at("length").get<int>());
    addUnique(run.depths, r.at("depth").get<double>());
    addUnique(params, r.at("params"));
    const size_t needle = r.value("needle_index", size_t{0});
    if (run.needles.size() <= needle) run.needles.resize(needle + 1);
    run.needles[needle] = {r.value("needle", ""), r.value("question", ""), r.value("answer", "")};
    if (run.model.empty()) run.model = r.value("model", "");
    if (run.haystackName.empty()) run.haystackName = r.value("haystack", "");
    run.chat = r.value("chat", false);
    run.maxNewTokens = r.value("max_new_tokens", run.maxNewTokens);
  }
  std::sort(run.lengths.begin(), run.lengths.end());
  std::sort(run.depths.begin(), run.depths.end());
  for (const nlohmann::json& p : params) {
    try {
      run.settings.push_back(paramsFromJson(p));
    } catch (const KvsError& e) {
      throw KvsError("a needle record's params " + p.dump() +
                     " are not this version's: " + e.what());
    }
  }
  return run;
}

}  // namespace kvs::eval
