#include "tokenizer/charsmap_check.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace kvs {
namespace {

// SentencePiece's Normalizer keeps the prefix matches of one position in an array of 32
// (Normalizer::kMaxTrieResultsSize) but counts them all, and reads as many as it counted.
constexpr uint32_t kMaxPrefixMatches = 32;

// One darts-clone DoubleArrayUnit (third_party/darts_clone/darts.h of SentencePiece 0.1.97).
uint32_t offsetOf(uint32_t unit) {
  return (unit >> 10) << ((unit & (1u << 9)) >> 6);
}
bool hasLeaf(uint32_t unit) {
  return ((unit >> 8) & 1) == 1;
}
uint32_t labelOf(uint32_t unit) {
  return unit & ((1u << 31) | 0xFF);  // a leaf unit has the top bit set: it matches no byte
}
uint32_t valueOf(uint32_t unit) {
  return unit & ((1u << 31) - 1);
}

uint32_t littleEndian32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

}  // namespace

std::string charsmapProblem(std::string_view blob) {
  if (blob.empty()) return {};  // no rules: SentencePiece leaves the text as it is
  if (blob.size() <= 4) {
    return "it is " + std::to_string(blob.size()) + " bytes, too short for its 4-byte header";
  }
  const uint32_t trieBytes = littleEndian32(blob.data());
  const size_t room = blob.size() - 4;
  if (trieBytes == 0 || trieBytes % 4 != 0 || trieBytes > room) {
    return "its header gives a trie of " + std::to_string(trieBytes) +
           " bytes, which is not a whole number of 4-byte units in the " + std::to_string(room) +
           " bytes that follow the header";
  }
  const size_t units = trieBytes / 4;
  std::vector<uint32_t> trie(units);
  for (size_t i = 0; i < units; ++i) trie[i] = littleEndian32(blob.data() + 4 + 4 * i);
  const size_t replacementBytes = room - trieBytes;

  // A state is the base the next input byte is XORed with: SentencePiece reads the unit at
  // base ^ byte for whatever byte comes next, so the base's whole block of 256 must exist.
  const auto inTrie = [&](uint64_t base) { return (base | 0xFF) < units; };
  const uint32_t root = offsetOf(trie[0]);
  if (!inTrie(root)) {
    return "its trie's root leads to unit " + std::to_string(root) + " of a trie of " +
           std::to_string(units) + " units";
  }
  // Depth-first over every state reachable on any bytes, iteratively (paths can be long).
  // mostMatches[s]: the most prefix matches on one path from state s.
  enum : uint8_t { kNew, kOpen, kDone };
  std::vector<uint8_t> mark(units, kNew);
  std::vector<uint32_t> mostMatches(units, 0);
  struct Frame {
    uint32_t base;
    uint32_t nextByte = 0;
    uint32_t most = 0;
    uint32_t childMatches = 0;  // 1 when the transition to the child being explored matches
  };
  std::vector<Frame> stack{{root}};
  mark[root] = kOpen;
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.nextByte == 256) {
      const uint32_t base = top.base, most = top.most;
      mostMatches[base] = most;
      mark[base] = kDone;
      stack.pop_back();
      if (!stack.empty()) {
        Frame& parent = stack.back();
        parent.most = std::max(parent.most, most + parent.childMatches);
        if (parent.most > kMaxPrefixMatches) {
          return "one input matches more than " + std::to_string(kMaxPrefixMatches) +
                 " of its rules at once";
        }
      }
      continue;
    }
    const uint32_t byte = top.nextByte++;
    const uint32_t node = top.base ^ byte;  // < units: the block of base is inside
    const uint32_t unit = trie[node];
    if (labelOf(unit) != byte) continue;  // no transition on this byte
    const uint64_t next = uint64_t{node} ^ offsetOf(unit);
    if (!inTrie(next)) {
      return "unit " + std::to_string(node) + " of its trie leads to unit " + std::to_string(next) +
             ", outside the " + std::to_string(units) + " units";
    }
    const uint32_t matches = hasLeaf(unit) ? 1 : 0;
    if (matches && valueOf(trie[next]) >= replacementBytes) {
      return "a rule points to byte " + std::to_string(valueOf(trie[next])) + " of " +
             std::to_string(replacementBytes) + " bytes of replacement text";
    }
    const auto state = static_cast<uint32_t>(next);
    if (mark[state] == kOpen) {
      return "its trie loops back to unit " + std::to_string(state) +
             " (a trie of rules has no cycles)";
    }
    if (mark[state] == kDone) {
      top.most = std::max(top.most, mostMatches[state] + matches);
      if (top.most > kMaxPrefixMatches) {
        return "one input matches more than " + std::to_string(kMaxPrefixMatches) +
               " of its rules at once";
      }
      continue;
    }
    top.childMatches = matches;
    mark[state] = kOpen;
    stack.push_back({state});  // `top` is not used after this
  }
  return {};
}

}  // namespace kvs
