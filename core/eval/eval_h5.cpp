#include "eval/eval_h5.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "eval/json_lines.h"
#include "eval/longbench_run.h"
#include "eval/needle_records.h"
#include "io/h5_util.h"
#include "io/recording_check.h"
#include "kvs/version.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

namespace fs = std::filesystem;

const char* const kKinds[] = {"longbench", "needle", "perplexity"};

bool knownKind(const std::string& kind) {
  for (const char* k : kKinds) {
    if (kind == k) return true;
  }
  return false;
}

std::string utcNow() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

H5::StrType utf8Strings() {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  return type;
}

void writeStrings(H5::Group& group, const std::string& name,
                  const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  for (const std::string& v : values) pointers.push_back(v.c_str());
  h5::writeDataset(group, name, utf8Strings(), {values.size()}, utf8Strings(), pointers.data());
}

template <typename T>
void writeNumbers(H5::Group& group, const std::string& name, const std::vector<T>& values) {
  const bool whole = std::is_integral<T>::value;
  h5::writeDataset(group, name, whole ? H5::PredType::STD_I64LE : H5::PredType::IEEE_F64LE,
                   {values.size()},
                   whole ? H5::PredType::NATIVE_INT64 : H5::PredType::NATIVE_DOUBLE, values.data());
}

// records: [task, setting, samples, score] per (task, setting) of the records.
void writeLongBenchTable(H5::Group& group, const std::vector<nlohmann::json>& records) {
  const std::vector<TaskSettingScore> table = scoreRecords(records);
  std::vector<std::string> tasks, settings;
  std::vector<int64_t> samples;
  std::vector<double> scores;
  for (const TaskSettingScore& row : table) {
    tasks.push_back(row.task);
    settings.push_back(row.setting);
    samples.push_back(row.samples);
    scores.push_back(row.score);
  }
  H5::Group t = group.createGroup("table");
  writeStrings(t, "task", tasks);
  writeStrings(t, "setting", settings);
  writeNumbers(t, "samples", samples);
  writeNumbers(t, "score", scores);
}

void writeNeedleGrid(H5::Group& group, const std::vector<nlohmann::json>& records) {
  const NeedleRun run = needleRunOfRecords(records);
  std::vector<std::string> settings;
  std::vector<int64_t> lengths, samples;
  std::vector<double> depths, contains, nll, rank;
  for (const NeedleCell& c : needleGrid(run, records)) {
    settings.push_back(c.setting);
    lengths.push_back(c.length);
    samples.push_back(c.samples);
    depths.push_back(c.depth);
    contains.push_back(c.containsRate);
    nll.push_back(c.meanNll);
    rank.push_back(c.meanFirstRank);
  }
  H5::Group g = group.createGroup("grid");
  writeStrings(g, "setting", settings);
  writeNumbers(g, "length", lengths);
  writeNumbers(g, "samples", samples);
  writeNumbers(g, "depth", depths);
  writeNumbers(g, "contains_rate", contains);
  writeNumbers(g, "mean_nll", nll);
  writeNumbers(g, "mean_first_rank", rank);
}

void writePerplexityCurves(H5::Group& group, const nlohmann::json& out) {
  H5::Group curves = group.createGroup("curves");
  int i = 0;
  for (const nlohmann::json& c : out.at("curves")) {
    H5::Group one = curves.createGroup(std::to_string(i++));
    writeNumbers(one, "nll", c.at("nll").get<std::vector<double>>());
    h5::writeAttribute(one, "setting", c.value("setting", std::string()));
    h5::writeAttribute(one, "params", c.value("params", nlohmann::json::object()).dump());
    for (const char* key : {"budget", "first_position", "cache_size"}) {
      if (c.contains(key)) h5::writeAttribute(one, key, c.at(key).get<int64_t>());
    }
    for (const char* key : {"mean_nll", "mean_nll_common"}) {
      if (c.contains(key)) h5::writeAttribute(one, key, c.at(key).get<double>());
    }
  }
}

void checkRecordsFitKind(const EvalResults& r) {
  if (r.kind == "perplexity") {
    require(r.records.size() == 1 && r.records[0].is_object() && r.records[0].contains("curves") &&
                r.records[0].at("curves").is_array(),
            "perplexity results are one object with a \"curves\" list, as `kvstudio-cli eval "
            "perplexity --out` writes it");
    return;
  }
  for (const nlohmann::json& record : r.records) {
    require(record.is_object() && record.contains("task") && record.contains("id") &&
                record.contains("params"),
            r.kind + " results are records with task, id and params, as `kvstudio-cli eval " +
                r.kind + " --out` writes them");
  }
}

// Refuses to replace the group of kind in eval when it came from another records file.
void checkReplace(const H5::Group& eval, const std::string& kind, const std::string& source,
                  bool force, const std::string& path) {
  if (!eval.nameExists(kind)) return;
  const H5::Group old = eval.openGroup(kind);
  const std::string oldSource =
      h5::hasAttribute(old, "source") ? h5::readStringAttribute(old, "source") : "";
  require(force || (!source.empty() && oldSource == source),
          path + " already holds the " + kind + " results of " +
              (oldSource.empty() ? std::string("another run") : oldSource) +
              "; give another file, or pass --force to replace them");
}

// The group of r.kind, written into file (whose /eval group exists).
void writeGroup(H5::H5File& file, const EvalResults& r, bool force, const std::string& path) {
  H5::Group eval = file.openGroup("eval");
  checkReplace(eval, r.kind, r.source, force, path);
  if (eval.nameExists(r.kind)) eval.unlink(r.kind);
  H5::Group group = eval.createGroup(r.kind);
  h5::writeAttribute(group, "model", r.model);
  h5::writeAttribute(group, "source", r.source);
  h5::writeAttribute(group, "created", utcNow());
  h5::writeAttribute(group, "app_version", std::string(kVersion));
  std::vector<std::string> lines;
  for (const nlohmann::json& record : r.records) lines.push_back(record.dump());
  writeStrings(group, "records", lines);
  if (r.kind == "longbench") writeLongBenchTable(group, r.records);
  if (r.kind == "needle") writeNeedleGrid(group, r.records);
  if (r.kind == "perplexity") writePerplexityCurves(group, r.records[0]);
}

bool isHdf5(const std::string& path) {
  return H5Fis_hdf5(path.c_str()) > 0;
}

// Reads the group in a fork()ed child first: a corrupt HDF5 file can crash or hang libhdf5
// itself (io/recording_check.h says why), and the app opens files users give it.
void checkInChild(const std::string& path, const std::string& kind) {
  const double limit = recordingCheckTimeLimit(path);
  const ChildOutcome outcome = runInChildProcess([&] { readEvalH5(path, kind); }, limit);
  switch (outcome.kind) {
    case ChildOutcome::Kind::kOk:
      return;
    case ChildOutcome::Kind::kError:
      throw KvsError(outcome.message);
    case ChildOutcome::Kind::kSignal:
      throw KvsError("the results file " + path + " is corrupt (libhdf5 crashed reading it, " +
                     "signal " + std::to_string(outcome.signal) +
                     "); write it again with the eval command's --h5");
    case ChildOutcome::Kind::kTimeout:
      break;
  }
  throw KvsError("the results file " + path + " could not be read within " +
                 std::to_string(static_cast<int>(limit)) +
                 " s (libhdf5 did not finish: a corrupt file can make it loop); write it again");
}

}  // namespace

void writeEvalH5(const std::string& path, const EvalResults& results, bool force) {
  require(knownKind(results.kind), "unknown evaluation kind \"" + results.kind +
                                       "\"; the kinds are longbench, needle and perplexity");
  checkRecordsFitKind(results);
  h5::silenceErrorStack();
  const bool there = fs::exists(path);
  if (there) {
    require(fs::is_regular_file(path) && isHdf5(path),
            path + " is there and is not an HDF5 file; give another file name");
  }
  const std::string temporary = path + ".part-" + std::to_string(::getpid());
  try {
    if (there) fs::copy_file(path, temporary, fs::copy_options::overwrite_existing);
    {
      H5::H5File file(temporary, there ? H5F_ACC_RDWR : H5F_ACC_TRUNC);
      if (!file.nameExists("eval")) file.createGroup("eval");
      writeGroup(file, results, force, path);
    }
    fs::rename(temporary, path);
  } catch (const KvsError&) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  } catch (const std::exception& e) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw KvsError("cannot write the " + results.kind + " results to " + path + ": " + e.what());
  } catch (const H5::Exception& e) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw KvsError("cannot write the " + results.kind + " results to " + path + ": " +
                   e.getDetailMsg());
  }
}

void checkEvalH5Target(const std::string& path, const std::string& kind, const std::string& source,
                       bool force) {
  h5::silenceErrorStack();
  if (!fs::exists(path)) return;
  require(fs::is_regular_file(path) && isHdf5(path),
          path + " is there and is not an HDF5 file; give another file name");
  try {
    const H5::H5File file(path, H5F_ACC_RDONLY);
    if (file.nameExists("eval")) checkReplace(file.openGroup("eval"), kind, source, force, path);
  } catch (const H5::Exception& e) {
    throw KvsError(path + " cannot be read as HDF5: " + e.getDetailMsg());
  }
}

std::vector<std::string> evalKindsInH5(const std::string& path) {
  h5::silenceErrorStack();
  require(fs::is_regular_file(path) && isHdf5(path), path + " is not an HDF5 file");
  try {
    const H5::H5File file(path, H5F_ACC_RDONLY);
    require(file.nameExists("eval"),
            path +
                " holds no evaluation results (no /eval group); write them with the eval "
                "commands' --h5");
    const H5::Group eval = file.openGroup("eval");
    std::vector<std::string> kinds;
    for (hsize_t i = 0; i < eval.getNumObjs(); ++i) {
      const std::string name = eval.getObjnameByIdx(i);
      if (knownKind(name)) kinds.push_back(name);
    }
    require(!kinds.empty(), path + " has an /eval group without results");
    return kinds;
  } catch (const H5::Exception& e) {
    throw KvsError(path + " cannot be read as HDF5: " + e.getDetailMsg());
  }
}

EvalResults readEvalH5(const std::string& path, const std::string& kind) {
  const std::vector<std::string> kinds = evalKindsInH5(path);
  std::string chosen = kind;
  if (chosen.empty()) {
    std::string list;
    for (const std::string& k : kinds) list += (list.empty() ? "" : ", ") + k;
    require(kinds.size() == 1, path + " holds several evaluations (" + list + "); choose one");
    chosen = kinds[0];
  }
  require(std::find(kinds.begin(), kinds.end(), chosen) != kinds.end(),
          path + " holds no " + chosen + " results");
  EvalResults out;
  out.kind = chosen;
  try {
    const H5::H5File file(path, H5F_ACC_RDONLY);
    const H5::Group group = file.openGroup("eval/" + chosen);
    out.model = h5::readStringAttribute(group, "model");
    if (h5::hasAttribute(group, "source")) out.source = h5::readStringAttribute(group, "source");
    const std::vector<std::string> lines = h5::readStrings(group.openDataSet("records"));
    for (size_t i = 0; i < lines.size(); ++i) {
      try {
        out.records.push_back(nlohmann::json::parse(lines[i]));
      } catch (const nlohmann::json::exception&) {
        throw KvsError(path + " /eval/" + chosen + "/records[" + std::to_string(i) +
                       "] is not JSON; the file is damaged");
      }
    }
  } catch (const H5::Exception& e) {
    throw KvsError(path + " /eval/" + chosen + " cannot be read: " + e.getDetailMsg());
  }
  checkRecordsFitKind(out);
  return out;
}

EvalResults readEvalResults(const std::string& path, const std::string& kind) {
  require(fs::exists(path), "the results file " + path + " is not there");
  require(fs::is_regular_file(path), path + " is not a regular file");
  h5::silenceErrorStack();
  if (isHdf5(path)) {
    checkInChild(path, kind);
    return readEvalH5(path, kind);
  }
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const size_t first = text.find_first_not_of(" \t\r\n");
  require(first != std::string::npos, path + " is empty: it holds no evaluation results");
  EvalResults out;
  out.source = fs::absolute(path).string();
  // The perplexity JSON is one object over many lines; records are one object per line.
  const nlohmann::json whole = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (whole.is_object() && whole.contains("curves")) {
    out.kind = "perplexity";
    out.model = whole.value("model", std::string());
    out.records.push_back(whole);
  } else {
    forEachJsonLine(path, "evaluation records",
                    "one record per line, as the eval commands' --out write them",
                    [&](const nlohmann::json& object, int, const std::string&) {
                      out.records.push_back(object);
                    });
    bool allNeedle = true;
    for (const nlohmann::json& r : out.records)
      allNeedle = allNeedle && r.value("task", "") == "needle";
    out.kind = allNeedle ? "needle" : "longbench";
    out.model = out.records.empty() ? "" : out.records[0].value("model", std::string());
  }
  require(kind.empty() || kind == out.kind, path + " holds " + out.kind + " results, not " + kind);
  checkRecordsFitKind(out);
  return out;
}

}  // namespace kvs::eval
