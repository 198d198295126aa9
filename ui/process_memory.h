#pragma once
// Resident memory of this process (Linux /proc/self/statm); 0 where that is unavailable.

#include <QtGlobal>

namespace kvs::ui {

qint64 residentBytes();

}  // namespace kvs::ui
