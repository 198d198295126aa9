#pragma once
// A SlotMap as an HDF5 table: one row per slot in layer, head, token order, one dataset per
// column (layer, head, first, last, pivot, count: int32; attention: float64), so that
// pandas.DataFrame({c: group[c][()] for c in group}) reads it whole.

#include <H5Cpp.h>

#include <string>

#include "cache/slot_map.h"
#include "io/h5_util.h"

namespace kvs {

int64_t slotCount(const SlotMap& map);

void writeSlotTable(H5::Group& group, const SlotMap& map, const h5::Storage& storage);

// Rows outside layers x kvHeads are an error naming `where`.
SlotMap readSlotTable(const H5::Group& group, int layers, int kvHeads, const std::string& where);

}  // namespace kvs
