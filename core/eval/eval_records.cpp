#include "eval/eval_records.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/error.h"

namespace kvs::eval {
namespace {

std::string recordKey(const nlohmann::json& r) {
  return EvalRecords::keyOf(r.at("task").get<std::string>(), r.at("id").get<std::string>(),
                            r.at("params"));
}

}  // namespace

std::string EvalRecords::keyOf(const std::string& task, const std::string& id,
                               const nlohmann::json& params) {
  return task + '\t' + id + '\t' + params.dump();
}

EvalRecords EvalRecords::open(const std::string& path, const std::string& model,
                              std::vector<std::string>* notes) {
  EvalRecords out;
  out.path_ = path;
  std::string text;
  if (std::filesystem::exists(path)) {
    require(std::filesystem::is_regular_file(path),
            "the results file " + path + " is not a regular file; give another --out");
    std::ifstream in(path, std::ios::binary);
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t kept = 0;             // bytes up to the end of the last readable record
  bool lastHasNewline = true;  // that record's line ends with '\n'
  int line = 1;
  for (size_t start = 0; start < text.size(); ++line) {
    const size_t end = text.find('\n', start);
    const bool whole = end != std::string::npos;
    const std::string where = path + " line " + std::to_string(line);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(text.substr(start, whole ? end - start : std::string::npos));
      recordKey(record);
    } catch (const nlohmann::json::exception&) {
      if (!whole) {  // the line a kill cut short
        if (notes) notes->push_back(where + " was cut short (the run was stopped); it is redone");
        break;
      }
      throw KvsError(where +
                     " is not an evaluation record; the file is damaged or not KV "
                     "Studio's: give another --out, or remove that line");
    }
    require(record.value("model", "") == model,
            "the results file " + path + " holds results of the model " +
                record.value("model", std::string("?")) + ", not " + model +
                "; give another --out to evaluate this model");
    out.keys_.insert(recordKey(record));
    out.records_.push_back(std::move(record));
    kept = whole ? end + 1 : text.size();
    lastHasNewline = whole;
    start = kept;
  }
  if (kept < text.size()) std::filesystem::resize_file(path, kept);
  out.file_ = std::fopen(path.c_str(), "ab");
  require(out.file_ != nullptr,
          "cannot write the results file " + path + ": " + std::strerror(errno));
  if (!lastHasNewline) std::fputc('\n', out.file_);
  return out;
}

EvalRecords::EvalRecords(EvalRecords&& other) noexcept
    : path_(std::move(other.path_)),
      file_(other.file_),
      records_(std::move(other.records_)),
      keys_(std::move(other.keys_)) {
  other.file_ = nullptr;
}

EvalRecords::~EvalRecords() {
  if (!file_) return;
  ::fsync(::fileno(file_));
  std::fclose(file_);
}

void EvalRecords::append(const nlohmann::json& record) {
  const std::string line = record.dump() + '\n';
  // Flushed to the system at once, so a killed process loses nothing written; synced to the disk
  // only at the end (a sync per record costs more than a small model's sample).
  const bool written =
      std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0;
  require(written, "cannot write to the results file " + path_ + ": " + std::strerror(errno) +
                       " (is the disk full?); the records before this one are kept");
  keys_.insert(recordKey(record));
  records_.push_back(record);
}

}  // namespace kvs::eval
