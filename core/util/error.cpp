#include "util/error.h"

namespace kvs {

void require(bool condition, const std::string& message) {
  if (!condition) throw KvsError(message);
}

}  // namespace kvs
