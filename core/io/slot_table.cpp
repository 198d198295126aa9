#include "io/slot_table.h"

#include <string>

#include "util/error.h"

namespace kvs {

int64_t slotCount(const SlotMap& map) {
  int64_t n = 0;
  for (const auto& layer : map.slots) {
    for (const auto& head : layer) n += int64_t(head.size());
  }
  return n;
}

void writeSlotTable(H5::Group& group, const SlotMap& map, const h5::Storage& storage) {
  std::vector<int> layer, head, first, last, pivot, count;
  std::vector<double> attention;
  for (int l = 0; l < map.layers(); ++l) {
    for (int h = 0; h < map.kvHeads(); ++h) {
      for (const Slot& s : map.head(l, h)) {
        layer.push_back(l);
        head.push_back(h);
        first.push_back(s.first);
        last.push_back(s.last);
        pivot.push_back(s.pivot);
        count.push_back(s.count);
        attention.push_back(s.attention);
      }
    }
  }
  auto column = [&](const char* name, const std::vector<int>& values) {
    H5::DataSet d = h5::writeDataset(group, name, H5::PredType::STD_I32LE, {values.size()},
                                     H5::PredType::NATIVE_INT, values.data(), storage);
    h5::writeDims(d, {"slot"});
  };
  column("layer", layer);
  column("head", head);
  column("first", first);
  column("last", last);
  column("pivot", pivot);
  column("count", count);
  H5::DataSet d = h5::writeDataset(group, "attention", H5::PredType::IEEE_F64LE, {attention.size()},
                                   H5::PredType::NATIVE_DOUBLE, attention.data(), storage);
  h5::writeDims(d, {"slot"});
}

SlotMap readSlotTable(const H5::Group& group, int layers, int kvHeads, const std::string& where) {
  const hsize_t fileSize = h5::fileSizeOf(group);
  // Every column is checked before any is read: a damaged extent must not size an allocation.
  hsize_t rows = 0;
  bool first = true;
  for (const char* column : {"layer", "head", "first", "last", "pivot", "count", "attention"}) {
    const H5::DataSet d = group.openDataSet(column);
    const std::vector<hsize_t> shape = h5::shapeOf(d);
    require(shape.size() == 1,
            where + ": the slot column " + column + " is not one-dimensional (damaged recording)");
    require(first || shape[0] == rows,
            where + ": the slot columns differ in length (damaged recording)");
    require(h5::heldExtent(d, 0, fileSize) == shape[0],
            where + ": the slot column " + column + " is cut short (damaged recording)");
    rows = shape[0];
    first = false;
  }
  auto ints = [&](const char* column) { return h5::readInts(group.openDataSet(column), rows); };
  const auto layer = ints("layer"), head = ints("head"), firsts = ints("first"),
             last = ints("last"), pivot = ints("pivot"), count = ints("count");
  std::vector<double> attention(rows);
  if (rows > 0) group.openDataSet("attention").read(attention.data(), H5::PredType::NATIVE_DOUBLE);
  SlotMap map;
  map.reset(layers, kvHeads);
  for (size_t i = 0; i < layer.size(); ++i) {
    require(layer[i] >= 0 && layer[i] < layers && head[i] >= 0 && head[i] < kvHeads,
            where + " has a slot outside the layers and heads");
    require(firsts[i] >= 0 && firsts[i] <= last[i],
            where + " has a slot covering positions " + std::to_string(firsts[i]) + "-" +
                std::to_string(last[i]) + " (damaged recording)");
    map.head(layer[i], head[i]).push_back({firsts[i], last[i], pivot[i], count[i], attention[i]});
  }
  return map;
}

}  // namespace kvs
