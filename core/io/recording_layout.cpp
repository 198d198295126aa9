#include "io/recording_layout.h"

#include <climits>
#include <cmath>
#include <nlohmann/json.hpp>

#include "io/h5_util.h"
#include "util/error.h"

namespace kvs {
namespace {

// Far above any model's (the largest have ~128 layers, 128 heads, head dim 256), far below what
// makes a read allocate for minutes.
constexpr int64_t kMaxLayers = 4096, kMaxHeads = 4096, kMaxHeadDim = 16384;

std::string describeShape(const std::vector<hsize_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string joined(const std::vector<std::string>& names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i) text += (i ? ", " : "") + names[i];
  return text;
}

// KvsError unless `dataset` has `axes` axes and, when it has a `dims` attribute, those names.
void checkAxes(const H5::DataSet& dataset, const std::vector<std::string>& axes,
               const std::string& where) {
  const std::vector<hsize_t> shape = h5::shapeOf(dataset);
  require(shape.size() == axes.size(), where + " has the shape " + describeShape(shape) +
                                           ", not [" + joined(axes) +
                                           "] (damaged recording); record it again");
  const std::vector<std::string> dims = h5::readDims(dataset);
  require(dims.empty() || dims == axes, where + " says its axes are (" + joined(dims) +
                                            "), but a recording's are (" + joined(axes) +
                                            ") (damaged recording); record it again");
}

void requireAxis(const std::vector<hsize_t>& shape, size_t axis, int64_t expected,
                 const std::string& axisName, const std::string& source, const std::string& where) {
  require(shape[axis] == hsize_t(expected),
          where + " has " + std::to_string(shape[axis]) + " " + axisName + " (shape " +
              describeShape(shape) + "), but " + source + " says " + std::to_string(expected) +
              " (damaged recording); record it again");
}

int configInt(const nlohmann::json& config, const char* key, const std::string& path) {
  const auto it = config.find(key);
  require(it != config.end() && it->is_number_integer(),
          path + ": /meta model_config has no whole number \"" + key +
              "\" (damaged recording, or not made by KV Studio); record it again");
  const int64_t value = it->get<int64_t>();
  require(value > 0 && value <= INT_MAX, path + ": /meta model_config says " + key + " = " +
                                             std::to_string(value) +
                                             ", which no model has (damaged recording)");
  return static_cast<int>(value);
}

}  // namespace

RecordedModelShape parseRecordedModelShape(const std::string& modelConfigJson,
                                           const std::string& path) {
  const nlohmann::json config = nlohmann::json::parse(modelConfigJson, nullptr, false);
  require(config.is_object(), path +
                                  ": /meta model_config is not a JSON object (damaged "
                                  "recording); record it again");
  RecordedModelShape s;
  s.layers = configInt(config, "n_layers", path);
  s.queryHeads = configInt(config, "n_heads", path);
  s.kvHeads = configInt(config, "n_kv_heads", path);
  // Older files and foreign writers may leave head_dim out: dim / n_heads then.
  s.headDim = config.contains("head_dim") ? configInt(config, "head_dim", path)
                                          : configInt(config, "dim", path) / s.queryHeads;
  const auto implausible = [&](const std::string& what, int64_t value, int64_t limit) {
    require(value <= limit, path + ": /meta model_config says " + std::to_string(value) + " " +
                                what + ", more than any model has (at most " +
                                std::to_string(limit) + " are read; damaged recording)");
  };
  implausible("layers", s.layers, kMaxLayers);
  implausible("query heads", s.queryHeads, kMaxHeads);
  implausible("KV heads", s.kvHeads, kMaxHeads);
  implausible("as the head dim", s.headDim, kMaxHeadDim);
  require(s.headDim > 0, path + ": /meta model_config gives a head dim of 0 (damaged recording)");
  require(s.queryHeads % s.kvHeads == 0,
          path + ": /meta model_config says " + std::to_string(s.queryHeads) + " query heads for " +
              std::to_string(s.kvHeads) +
              " KV heads, which is not a whole number per KV head (damaged recording)");
  return s;
}

int checkStateDataset(const H5::DataSet& dataset, const RecordedModelShape& shape,
                      const std::string& where, hsize_t fileSize) {
  checkAxes(dataset, {"kv_head", "token", "head_dim"}, where);
  const std::vector<hsize_t> extent = h5::shapeOf(dataset);
  requireAxis(extent, 0, shape.kvHeads, "KV heads", "/meta model_config", where);
  requireAxis(extent, 2, shape.headDim, "head dims", "/meta model_config", where);
  const hsize_t held = h5::heldExtent(dataset, 1, fileSize);
  return static_cast<int>(std::min<hsize_t>(held, INT_MAX));
}

bool checkAttentionDataset(const H5::DataSet& dataset, const RecordedModelShape& shape,
                           int promptTokens, const std::string& where, hsize_t fileSize) {
  checkAxes(dataset, {"q_head", "query", "key"}, where);
  const std::vector<hsize_t> extent = h5::shapeOf(dataset);
  require(extent[0] == hsize_t(shape.queryHeads),
          where + " has " + std::to_string(extent[0]) + " query heads (shape " +
              describeShape(extent) + "), but /meta model_config says " +
              std::to_string(shape.queryHeads) + " (" + std::to_string(shape.kvHeads) +
              " KV heads of " + std::to_string(shape.queryHeads / shape.kvHeads) +
              " query heads each) (damaged recording); record it again");
  requireAxis(extent, 1, promptTokens, "queries", "/meta prompt_tokens", where);
  requireAxis(extent, 2, promptTokens, "keys", "/meta prompt_tokens", where);
  return h5::heldExtent(dataset, 0, fileSize) == extent[0];
}

hsize_t checkTokenDataset(const H5::DataSet& dataset, const std::string& where, hsize_t fileSize) {
  checkAxes(dataset, {"token"}, where);
  return h5::heldExtent(dataset, 0, fileSize);
}

std::string describeRanges(const std::vector<int>& sorted) {
  std::string text;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    text += (text.empty() ? "" : ", ") + std::to_string(sorted[i]);
    if (j > i) text += "-" + std::to_string(sorted[j]);
    i = j + 1;
  }
  return text;
}

int64_t firstNonFinite(const float* data, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(data[i])) return static_cast<int64_t>(i);
  }
  return -1;
}

}  // namespace kvs
