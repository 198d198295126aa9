#pragma once
// The needle-in-a-haystack prompt of one grid cell (a context length in tokens, a depth in 0..1),
// built from token ids so that its length is exactly the cell's and the needle's index is known:
//
//   [BOS]  haystack[0 .. k)  needle  haystack[k .. H)  "\n\nQuestion: <question>\nAnswer:"
//   with --chat: [BOS] "[INST]" ... "Answer:" "[/INST]" (LongBench's build_chat wrapping)
//
// Each part is tokenized on its own (SentencePiece's leading space included, so the needle and
// the question start as a word does after a space); the haystack is cut to the H tokens the
// length leaves, at token granularity, always from its start. The needle goes in at the sentence
// start k nearest to depth x H (ties: the earlier one); the haystack's two ends count as sentence
// starts, so depth 0 is right after BOS and depth 1 right before the question. A sentence starts
// at a token that begins a word ("▁...") after a token ending in '.', '!' or '?' (closing quotes
// after them allowed, as in `you." Then`).
//
// Shapes: L = the cell's length (prompt tokens), H = its haystack tokens, A = answer tokens.

#include <string>
#include <vector>

namespace kvs {
class Tokenizer;
}

namespace kvs::eval {

// A fact hidden in the haystack, the question that asks for it and the expected answer.
struct Needle {
  std::string needle, question, answer;
};

// What suits a story model: "The secret word is apple." / "What is the secret word?" / "apple".
Needle defaultNeedle();

// KvsError when a field is empty (blank), naming `where` (e.g. "--needle", "needles.json entry 2")
// and the fix.
void requireNeedle(const Needle& n, const std::string& where);

// A needle file: one JSON object {"needle", "question", "answer"} (strings) or a non-empty array
// of them; KvsError naming the file, the entry and the fix otherwise.
std::vector<Needle> readNeedleFile(const std::string& path);

// data/prompts/tinystories_prompts.txt of the checkout KV Studio was built from: stories written by
// the stories260K model itself (data/prompts/README.md).
std::string defaultHaystackPath();

// The haystack text of a file: its lines, blank ones and those starting with '#' skipped (the
// prompt sets' comments), joined with single spaces. KvsError when it cannot be read or holds
// no text.
std::string readHaystack(const std::string& path);

// The parts of every cell's prompt, tokenized once.
struct NeedleParts {
  std::vector<int> haystack;  // the whole haystack, no BOS
  std::vector<int> prefix;    // BOS (+ "[INST]")
  std::vector<int> needle;    // the needle sentence
  std::vector<int> suffix;    // "\n\nQuestion: <question>\nAnswer:" (+ "[/INST]")
  std::vector<int> answer;    // [A] the expected answer, as it would follow "Answer:"
  // Tokens of a cell that are not haystack: prefix + needle + suffix.
  int fixedTokens() const;
};

NeedleParts tokenizeNeedle(const Tokenizer& tokenizer, const std::string& haystack,
                           const Needle& needle, bool chat);

struct NeedlePrompt {
  std::vector<int> ids;    // [L]
  int haystackTokens = 0;  // H
  int needlePos = 0;       // index in ids of the needle's first token: prefix + k
  double depthPos = 0;     // where the depth asked for falls: prefix + depth x H
};

// The cell's prompt. The caller has checked that 0 <= depth <= 1 and that the haystack holds the
// H = length - parts.fixedTokens() >= 1 tokens needed (checkNeedleGrid in needle.h).
NeedlePrompt buildNeedlePrompt(const Tokenizer& tokenizer, const NeedleParts& parts, int length,
                               double depth);

// Whether a sentence starts at ids[k] (the rule above; k = 0 and k = ids.size() are the ends).
bool startsSentence(const Tokenizer& tokenizer, const std::vector<int>& ids, int k);

// A cell's record id: "L<length>_d<depth>" with the depth as %g prints it ("L256_d0.25").
std::string needleCellId(int length, double depth);

// The greedy answer contains the expected one: the expected answer with surrounding whitespace
// trimmed is a substring of the generated text, both lower-cased byte by byte (ASCII letters;
// other bytes compared as they are). A substring, not a word: "apple" is found in "pineapple".
bool answerContains(const std::string& generated, const std::string& expected);

}  // namespace kvs::eval
