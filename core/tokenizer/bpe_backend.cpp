#include "tokenizer/bpe_backend.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <queue>
#include <unordered_map>
#include <utility>
#include <vector>

#include "tokenizer/bpe_pretokenizer.h"
#include "tokenizer/bpe_spec.h"
#include "tokenizer/utf8_check.h"
#include "util/error.h"

namespace kvs {

namespace {

std::string utf8Of(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {  // the byte-level table stays below U+0800; longer forms are not needed here
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

uint64_t pairKey(int left, int right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

struct MergeRule {
  int rank;
  int merged;
};

class BpeBackend : public TokenizerBackend {
 public:
  explicit BpeBackend(BpeSpec spec) : spec_(std::move(spec)) {
    for (const std::string& pattern : spec_.splitPatterns)
      regexes_.emplace_back(pattern, spec_.path);
    merges_.reserve(spec_.merges.size());
    for (size_t rank = 0; rank < spec_.merges.size(); ++rank) {
      const BpeMerge& m = spec_.merges[rank];
      // A pair listed twice keeps its later rank, as Hugging Face's map of merges does.
      merges_[pairKey(m.left, m.right)] = {static_cast<int>(rank), m.merged};
    }
    for (int b = 0; b < 256; ++b) {
      byteChars_[b] = utf8Of(byteLevelCodePoint(static_cast<unsigned char>(b)));
      const auto it = spec_.vocab.find(byteChars_[b]);
      require(it != spec_.vocab.end(),
              "tokenizer " + spec_.path + ": the vocabulary has no token for byte " +
                  std::to_string(b) + " (\"" + byteChars_[b] +
                  "\"), so it is not a byte-level BPE; use the tokenizer.json published with the "
                  "model");
      byteIds_[b] = it->second;
    }
    special_.assign(spec_.pieces.size(), false);
    for (size_t i = 0; i < spec_.added.size(); ++i) {
      const BpeAddedToken& a = spec_.added[i];
      if (a.special) special_[a.id] = true;
      addedByFirstByte_[static_cast<unsigned char>(a.content[0])].push_back(i);
    }
    // The longest added token that starts at a position is the one taken.
    for (auto& list : addedByFirstByte_) {
      std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
        return spec_.added[a].content.size() > spec_.added[b].content.size();
      });
    }
  }

  TokenizerKind kind() const override { return TokenizerKind::kByteLevelBpe; }

  std::vector<int> encode(const std::string& text) const override {
    const size_t bad = firstInvalidUtf8(text);
    require(bad == std::string::npos, "cannot tokenize the text: it is not UTF-8 (byte " +
                                          std::to_string(bad) + "); save it as UTF-8");
    std::vector<int> ids;
    size_t start = 0;
    for (size_t i = 0; i < text.size();) {
      const BpeAddedToken* token = addedTokenAt(text, i);
      if (token == nullptr) {
        ++i;
        continue;
      }
      encodeSection(text.substr(start, i - start), &ids);
      ids.push_back(token->id);
      i += token->content.size();
      start = i;
    }
    encodeSection(text.substr(start), &ids);
    return ids;
  }

  std::string decode(const std::vector<int>& ids) const override {
    std::string bytes;
    for (int id : ids) {
      if (!special_[id]) bytes += tokenBytes(id);
    }
    return takeUtf8(&bytes, /*final=*/true, Utf8Replacement::kPerMaximalSubpart);
  }

  int vocabSize() const override { return static_cast<int>(spec_.pieces.size()); }
  int bosId() const override { return spec_.bosId; }
  int eosId() const override { return spec_.eosId; }
  std::string piece(int id) const override { return spec_.pieces[id]; }
  int pieceId(const std::string& piece) const override {
    for (const BpeAddedToken& a : spec_.added) {
      if (a.content == piece) return a.id;
    }
    const auto it = spec_.vocab.find(piece);
    return it == spec_.vocab.end() ? -1 : it->second;
  }

  // Hugging Face's ByteLevel decoder: a token whose every character is in the byte-level table is
  // those bytes; any other (an added token with, say, a real space in it) is its own UTF-8.
  std::string tokenBytes(int id) const override {
    const std::string& p = spec_.pieces[id];
    std::string bytes;
    for (size_t pos = 0, length = 1; pos < p.size(); pos += length) {
      if (checkUtf8(p, pos, &length) != Utf8::kValid || length > 3) return p;
      char32_t cp = length == 1 ? static_cast<unsigned char>(p[pos])
                                : static_cast<unsigned char>(p[pos]) & (length == 2 ? 0x1F : 0x0F);
      for (size_t k = 1; k < length; ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(p[pos + k]) & 0x3F);
      const int b = byteOfByteLevelCodePoint(cp);
      if (b < 0) return p;
      bytes += static_cast<char>(b);
    }
    return bytes;
  }

  bool isByte(int) const override { return false; }
  bool isControl(int id) const override { return special_[id]; }
  bool isUnknown(int) const override { return false; }

 private:
  const BpeAddedToken* addedTokenAt(const std::string& text, size_t i) const {
    for (size_t k : addedByFirstByte_[static_cast<unsigned char>(text[i])]) {
      const std::string& c = spec_.added[k].content;
      if (text.compare(i, c.size(), c) == 0) return &spec_.added[k];
    }
    return nullptr;
  }

  void encodeSection(const std::string& raw, std::vector<int>* ids) const {
    if (raw.empty()) return;
    const std::string text = spec_.nfc ? normalizeNfc(raw) : raw;
    std::vector<std::pair<size_t, size_t>> pieces{{0, text.size()}}, next;
    for (const BpeRegex& regex : regexes_) {
      next.clear();
      for (const auto& [b, e] : pieces) regex.split(text.substr(b, e - b), b, &next);
      pieces.swap(next);
    }
    for (const auto& [b, e] : pieces) encodeWord(text, b, e, ids);
  }

  // One pre-tokenized word: its bytes as byte-level symbols, merged by rank (lowest first, the
  // leftmost of equal ranks), as Hugging Face's Word::merge_all does.
  void encodeWord(const std::string& text, size_t b, size_t e, std::vector<int>* ids) const {
    if (b == e) return;
    if (spec_.ignoreMerges) {  // Llama 3: a word that is a token is that token
      std::string mapped;
      for (size_t i = b; i < e; ++i) mapped += byteChars_[static_cast<unsigned char>(text[i])];
      const auto it = spec_.vocab.find(mapped);
      if (it != spec_.vocab.end()) {
        ids->push_back(it->second);
        return;
      }
    }
    struct Symbol {
      int id, prev, next;
      bool alive;
    };
    struct Candidate {
      int rank, pos, merged;
      bool operator>(const Candidate& o) const {
        return rank != o.rank ? rank > o.rank : pos > o.pos;
      }
    };
    const int n = static_cast<int>(e - b);
    std::vector<Symbol> symbols(n);
    for (int i = 0; i < n; ++i) {
      symbols[i] = {byteIds_[static_cast<unsigned char>(text[b + i])], i - 1,
                    i + 1 < n ? i + 1 : -1, true};
    }
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
    const auto consider = [&](int pos) {
      const int right = symbols[pos].next;
      if (right < 0) return;
      const auto it = merges_.find(pairKey(symbols[pos].id, symbols[right].id));
      if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.merged});
    };
    for (int i = 0; i + 1 < n; ++i) consider(i);
    while (!queue.empty()) {
      const Candidate top = queue.top();
      queue.pop();
      Symbol& left = symbols[top.pos];
      if (!left.alive || left.next < 0) continue;
      // Stale when either side has changed since the candidate was queued.
      const auto it = merges_.find(pairKey(left.id, symbols[left.next].id));
      if (it == merges_.end() || it->second.rank != top.rank) continue;
      Symbol& right = symbols[left.next];
      right.alive = false;
      left.id = top.merged;
      left.next = right.next;
      if (right.next >= 0) symbols[right.next].prev = top.pos;
      if (left.prev >= 0) consider(left.prev);
      consider(top.pos);
    }
    for (int i = 0; i >= 0; i = symbols[i].next) ids->push_back(symbols[i].id);
  }

  BpeSpec spec_;
  std::vector<BpeRegex> regexes_;
  std::unordered_map<uint64_t, MergeRule> merges_;  // (left id, right id) -> rank, merged id
  std::array<std::string, 256> byteChars_;          // byte -> its byte-level character (UTF-8)
  std::array<int, 256> byteIds_{};                  // byte -> id of its one-byte token
  std::vector<bool> special_;                       // by id
  std::array<std::vector<size_t>, 256> addedByFirstByte_;  // indexes into spec_.added
};

}  // namespace

std::unique_ptr<TokenizerBackend> loadBpeBackend(const std::string& tokenizerJsonPath) {
  return std::make_unique<BpeBackend>(readBpeSpec(tokenizerJsonPath));
}

}  // namespace kvs
