#pragma once
// An evaluation's results as one HDF5 group, beside (or inside) a recording, readable from h5py
// and MATLAB without KV Studio:
//   /eval/<kind>                kind: "longbench", "needle" or "perplexity"; attrs model, created
//     records                   string[N]: every record, one JSON object each (eval_records.h),
//                               or for perplexity every curve as the CLI's --out writes it
//     table/{task,setting}      string[R]   LongBench: the task x setting table
//     table/{samples}           int64[R]
//     table/{score}             float64[R]  eval.py's score, x100
//     grid/{setting}            string[G]   needle: one row per (setting, depth, length)
//     grid/{length,samples}     int64[G]
//     grid/{depth,contains_rate,mean_nll,mean_first_rank} float64[G]
//     curves/<i>/nll            float64[n]  perplexity: each curve, attrs setting, budget,
//                                           first_position, mean_nll, mean_nll_common
// A group of that kind already in the file is replaced when it came from the same records file
// (a resumed run writes it again) or with force, and refused otherwise. The file is written under
// a temporary name (a copy, when the file is there) and renamed, so no half-written file looks
// complete.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace kvs::eval {

// What a results file holds, whatever its format (.jsonl records, the perplexity --out .json, or
// .h5): kind as above; records: the JSONL records (LongBench, needle) or, for perplexity, the
// --out JSON object ({"tokens": n, "curves": [...]}) as the only element.
struct EvalResults {
  std::string kind;
  std::string model;
  std::string source;  // the records file they came from (absolute), the group's attribute
  std::vector<nlohmann::json> records;
};

// Writes results as /eval/<kind> of path (creating the file, or adding to an HDF5 file that is
// there). KvsError naming the fix for a group already there (without force), a file there that
// is not HDF5, an unknown kind or records that do not fit the kind.
void writeEvalH5(const std::string& path, const EvalResults& results, bool force);

// Checks before a long run that writeEvalH5(path, {kind, .., source}, force) will not be refused:
// the file, when there, is HDF5 and holds no results of kind from another records file (unless
// force). KvsError naming the fix.
void checkEvalH5Target(const std::string& path, const std::string& kind, const std::string& source,
                       bool force);

// The kinds path holds under /eval, in file order; KvsError when it is not HDF5 or has no /eval.
std::vector<std::string> evalKindsInH5(const std::string& path);

// Reads /eval/<kind> back (kind empty: the only one there). KvsError naming the problem for a
// missing group, a damaged record or several kinds without a choice.
EvalResults readEvalH5(const std::string& path, const std::string& kind = {});

// Reads any results file by its content: HDF5 (by signature), a JSON object with "curves"
// (perplexity), or JSONL records (kind "needle" when every record's task is "needle", else
// "longbench"). KvsError naming the file and the problem otherwise.
EvalResults readEvalResults(const std::string& path, const std::string& kind = {});

}  // namespace kvs::eval
