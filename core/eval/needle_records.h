#pragma once
// A needle run's shape as its records hold it, so a results file alone (a finished or partial
// run's, or a merged sweep's) gives back the grid without the command line that made it.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/needle.h"

namespace kvs::eval {

// The lengths and depths ascending, the settings and needles in the order they first appear,
// the model and haystack of the first record. Records of other tasks are skipped. KvsError for a
// needle record without length, depth or params, or with params this version cannot read.
NeedleRun needleRunOfRecords(const std::vector<nlohmann::json>& records);

}  // namespace kvs::eval
