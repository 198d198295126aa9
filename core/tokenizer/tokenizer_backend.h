#pragma once
// What kvs::Tokenizer asks of each kind of tokenizer. Ids given to the per-id calls are already
// checked to be in [0, vocabSize()).

#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace kvs {

class TokenizerBackend {
 public:
  virtual ~TokenizerBackend() = default;
  virtual TokenizerKind kind() const = 0;
  virtual std::vector<int> encode(const std::string& text) const = 0;  // without BOS
  virtual std::string decode(const std::vector<int>& ids) const = 0;   // ids in range
  virtual int vocabSize() const = 0;
  virtual int bosId() const = 0;
  virtual int eosId() const = 0;
  virtual std::string piece(int id) const = 0;
  virtual int pieceId(const std::string& piece) const = 0;
  virtual std::string tokenBytes(int id) const = 0;
  virtual bool isByte(int id) const = 0;
  virtual bool isControl(int id) const = 0;
  virtual bool isUnknown(int id) const = 0;
};

}  // namespace kvs
