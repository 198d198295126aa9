#pragma once
// Errors that reach a user: each message names the problem and, where there is one, the fix.

#include <stdexcept>
#include <string>

namespace kvs {

class KvsError : public std::runtime_error {
 public:
  explicit KvsError(const std::string& message) : std::runtime_error(message) {}
};

// Work that a keep-going check stopped throws KvsError("cancelled"): not an error to show.
inline bool isCancelled(const std::exception& e) {
  return dynamic_cast<const KvsError*>(&e) != nullptr && std::string(e.what()) == "cancelled";
}

// Throws KvsError(message) when condition is false.
void require(bool condition, const std::string& message);

}  // namespace kvs
