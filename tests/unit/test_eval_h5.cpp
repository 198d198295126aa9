// An evaluation's results as the HDF5 group /eval/<kind>: the table and grid read back with the
// plain HDF5 API (as h5py would read them) against numbers computed by hand from the records,
// the records round trip, and what is refused (another run's group, a file that is not HDF5)
// without touching the file.

#include <H5Cpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "compress/compression_params.h"
#include "eval/eval_h5.h"
#include "test_util.h"

namespace kvs::test {
namespace {

using nlohmann::json;

json record(const std::string& task, const std::string& id, const std::string& method,
            double score) {
  return {{"task", task},      {"id", id},
          {"setting", method}, {"params", {{"method", method}}},
          {"model", "m.bin"},  {"prediction", "p"},
          {"score", score}};
}

std::vector<json> longBenchRecords() {
  return {record("trec", "a", "full", 1.0),    record("trec", "b", "full", 0.0),
          record("trec", "a", "h2o", 0.25),    record("trec", "b", "h2o", 0.5),
          record("qasper", "c", "full", 0.75), record("trec", "c", "full", 1.0)};
}

eval::EvalResults results(const std::string& kind, std::vector<json> records,
                          const std::string& source = "/runs/a.jsonl") {
  return {kind, "m.bin", source, std::move(records)};
}

std::vector<std::string> readStrings(const H5::DataSet& d) {
  const hsize_t n = d.getSpace().getSimpleExtentNpoints();
  std::vector<char*> p(n);
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  d.read(p.data(), type);
  std::vector<std::string> out(p.begin(), p.end());
  H5::DataSet::vlenReclaim(p.data(), type, d.getSpace());
  return out;
}

template <typename T>
std::vector<T> readNumbers(const H5::DataSet& d, const H5::PredType& type) {
  std::vector<T> out(d.getSpace().getSimpleExtentNpoints());
  d.read(out.data(), type);
  return out;
}

std::string fileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

void expectError(const std::function<void()>& f, const std::string& needle) {
  const std::string message = errorOf(f);
  EXPECT_NE(message.find(needle), std::string::npos) << message;
}

TEST(EvalH5, LongBenchTableAsH5pyReadsIt) {
  TempDir dir;
  const std::string path = dir.file("r.h5");
  eval::writeEvalH5(path, results("longbench", longBenchRecords()), false);
  const H5::H5File file(path, H5F_ACC_RDONLY);
  const H5::Group table = file.openGroup("eval/longbench/table");
  // In first-seen order: trec/full (1 + 0 + 1) / 3, trec/h2o (0.25 + 0.5) / 2, qasper/full 0.75.
  EXPECT_EQ(readStrings(table.openDataSet("task")),
            (std::vector<std::string>{"trec", "trec", "qasper"}));
  EXPECT_EQ(readStrings(table.openDataSet("setting")),
            (std::vector<std::string>{"full", "h2o", "full"}));
  EXPECT_EQ(readNumbers<int64_t>(table.openDataSet("samples"), H5::PredType::NATIVE_INT64),
            (std::vector<int64_t>{3, 2, 1}));
  const auto score = readNumbers<double>(table.openDataSet("score"), H5::PredType::NATIVE_DOUBLE);
  ASSERT_EQ(score.size(), 3u);
  EXPECT_DOUBLE_EQ(score[0], 66.67);  // eval.py rounds to two decimals
  EXPECT_DOUBLE_EQ(score[1], 37.5);
  EXPECT_DOUBLE_EQ(score[2], 75.0);
  EXPECT_EQ(readStrings(file.openGroup("eval/longbench").openDataSet("records")).size(), 6u);

  const eval::EvalResults back = eval::readEvalResults(path);
  EXPECT_EQ(back.kind, "longbench");
  EXPECT_EQ(back.model, "m.bin");
  EXPECT_EQ(back.records, longBenchRecords());
}

TEST(EvalH5, NeedleGridFromTheRecordsAlone) {
  std::vector<json> records;
  for (int length : {128, 64}) {
    for (double depth : {0.0, 1.0}) {
      json r = record("needle", std::to_string(length) + "_" + std::to_string(depth), "full", 0);
      r["length"] = length;
      r["depth"] = depth;
      r["contains"] = length == 64 ? 1 : 0;
      r["answer_nll"] = length / 64.0 + depth;
      r["first_token_rank"] = 3;
      r["needle_index"] = 0;
      r["params"] = toJson(CompressionParams{});  // as a run writes them
      records.push_back(r);
    }
  }
  // The ids the needle run gives its cells, so the grid finds them.
  for (json& r : records) {
    r["id"] = "L" + std::to_string(r["length"].get<int>()) + "_d" +
              (r["depth"].get<double>() == 0 ? std::string("0") : std::string("1"));
  }
  TempDir dir;
  const std::string path = dir.file("n.h5");
  eval::writeEvalH5(path, results("needle", records), false);
  const H5::H5File file(path, H5F_ACC_RDONLY);
  const H5::Group grid = file.openGroup("eval/needle/grid");
  // Depths x lengths ascending: (0, 64), (0, 128), (1, 64), (1, 128).
  EXPECT_EQ(readNumbers<int64_t>(grid.openDataSet("length"), H5::PredType::NATIVE_INT64),
            (std::vector<int64_t>{64, 128, 64, 128}));
  EXPECT_EQ(readNumbers<double>(grid.openDataSet("depth"), H5::PredType::NATIVE_DOUBLE),
            (std::vector<double>{0, 0, 1, 1}));
  EXPECT_EQ(readStrings(grid.openDataSet("setting")).size(), 4u);
  EXPECT_EQ(readNumbers<int64_t>(grid.openDataSet("samples"), H5::PredType::NATIVE_INT64),
            (std::vector<int64_t>{1, 1, 1, 1}));
  EXPECT_EQ(readNumbers<double>(grid.openDataSet("contains_rate"), H5::PredType::NATIVE_DOUBLE),
            (std::vector<double>{1, 0, 1, 0}));
  EXPECT_EQ(readNumbers<double>(grid.openDataSet("mean_nll"), H5::PredType::NATIVE_DOUBLE),
            (std::vector<double>{1, 2, 2, 3}));
  EXPECT_EQ(eval::readEvalResults(path).kind, "needle");
}

TEST(EvalH5, PerplexityCurvesAndTheJsonFile) {
  const json out = {{"model", "m.bin"},
                    {"tokens", 6},
                    {"curves",
                     {{{"setting", "full"},
                       {"params", {{"method", "full"}}},
                       {"cache_size", 6},
                       {"first_position", 2},
                       {"mean_nll", 1.5},
                       {"nll", {1.0, 2.0, 1.5, 1.5}}}}}};
  TempDir dir;
  const std::string path = dir.file("p.h5");
  eval::writeEvalH5(path, results("perplexity", {out}), false);
  const H5::H5File file(path, H5F_ACC_RDONLY);
  const H5::DataSet nll = file.openDataSet("eval/perplexity/curves/0/nll");
  EXPECT_EQ(readNumbers<double>(nll, H5::PredType::NATIVE_DOUBLE),
            (std::vector<double>{1.0, 2.0, 1.5, 1.5}));
  EXPECT_EQ(eval::readEvalResults(path).records.at(0), out);
  const std::string jsonPath = dir.file("p.json");
  std::ofstream(jsonPath) << out.dump(2);
  const eval::EvalResults fromJson = eval::readEvalResults(jsonPath);
  EXPECT_EQ(fromJson.kind, "perplexity");
  EXPECT_EQ(fromJson.model, "m.bin");
}

TEST(EvalH5, SeveralKindsInOneFileAndTheJsonLines) {
  TempDir dir;
  const std::string path = dir.file("r.h5");
  eval::writeEvalH5(path, results("longbench", longBenchRecords()), false);
  json r = record("needle", "L64_d0", "full", 0);
  r["length"] = 64;
  r["depth"] = 0.0;
  r["contains"] = 1;
  r["answer_nll"] = 0.5;
  r["first_token_rank"] = 1;
  eval::writeEvalH5(path, results("needle", {r}), false);
  EXPECT_EQ(eval::evalKindsInH5(path), (std::vector<std::string>{"longbench", "needle"}));
  expectError([&] { eval::readEvalH5(path); }, "holds several evaluations (longbench, needle)");
  EXPECT_EQ(eval::readEvalH5(path, "needle").records.size(), 1u);

  const std::string lines = dir.file("r.jsonl");
  std::ofstream out(lines);
  for (const json& each : longBenchRecords()) out << each.dump() << "\n";
  out.close();
  EXPECT_EQ(eval::readEvalResults(lines).records, longBenchRecords());
  expectError([&] { eval::readEvalResults(lines, "needle"); },
              "holds longbench results, not needle");
}

// A rerun of the same records replaces its group; another run's is refused without --force, and
// a refused or failed write leaves the file as it was and no temporary file beside it.
TEST(EvalH5, RefusesAnotherRunsGroupAndForeignFiles) {
  TempDir dir;
  const std::string path = dir.file("r.h5");
  eval::writeEvalH5(path, results("longbench", longBenchRecords()), false);
  auto fewer = longBenchRecords();
  fewer.pop_back();
  eval::writeEvalH5(path, results("longbench", fewer), false);  // the same source: replaced
  EXPECT_EQ(eval::readEvalH5(path).records.size(), 5u);
  const std::string before = fileText(path);
  expectError([&] { eval::writeEvalH5(path, results("longbench", fewer, "/runs/b.jsonl"), false); },
              "already holds the longbench results of /runs/a.jsonl; give another file, "
              "or pass --force");
  expectError([&] { eval::checkEvalH5Target(path, "longbench", "/runs/b.jsonl", false); },
              "pass --force");
  eval::checkEvalH5Target(path, "needle", "/runs/b.jsonl", false);  // another kind: fine
  EXPECT_EQ(fileText(path), before);
  eval::writeEvalH5(path, results("longbench", longBenchRecords(), "/runs/b.jsonl"), true);
  EXPECT_EQ(eval::readEvalH5(path).source, "/runs/b.jsonl");

  const std::string text = dir.file("notes.txt");
  std::ofstream(text) << "my notes\n";
  expectError([&] { eval::writeEvalH5(text, results("longbench", fewer), false); },
              "is there and is not an HDF5 file");
  EXPECT_EQ(fileText(text), "my notes\n");
  expectError([&] { eval::writeEvalH5(path, results("perplexity", fewer), false); },
              "one object with a \"curves\" list");
  expectError([&] { eval::writeEvalH5(path, results("ruler", fewer), false); },
              "unknown evaluation kind \"ruler\"");
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().string().find(".part-"), std::string::npos) << entry.path();
  }
  expectError([&] { eval::readEvalResults(text); }, "notes.txt line 1");
  expectError([&] { eval::readEvalResults(dir.file("none.h5")); }, "is not there");
}

// A flipped bit in the global heap, where the records' strings live, crashes libhdf5 itself in
// some builds; the file is read in a child process first, so a damaged file is a message.
TEST(EvalH5, ADamagedFileIsAMessage) {
  TempDir dir;
  const std::string path = dir.file("r.h5");
  eval::writeEvalH5(path, results("longbench", longBenchRecords()), false);
  std::string bytes = fileText(path);
  const size_t heap = bytes.find("GCOL");
  ASSERT_NE(heap, std::string::npos);
  for (size_t i = heap + 16; i < heap + 64 && i < bytes.size(); ++i) bytes[i] = char(0xff);
  std::ofstream(path, std::ios::binary) << bytes;
  const std::string message = errorOf([&] { eval::readEvalResults(path); });
  EXPECT_NE(message, "(no error)");
  EXPECT_NE(message.find(path), std::string::npos) << message;
}

}  // namespace
}  // namespace kvs::test
