#include "eval/needle_prompt.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/json_lines.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

namespace kvs::eval {
namespace {

const std::string kWordStart = "\xE2\x96\x81";  // SentencePiece's "▁": a space before the piece

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

std::string trimmed(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The piece of ids[j] ends a sentence: '.', '!' or '?', closing quotes after it allowed; a piece
// of quotes alone (`"` after `.`) looks at the piece before it.
bool endsSentence(const Tokenizer& tokenizer, const std::vector<int>& ids, int j) {
  for (int look = 0; look < 2 && j >= 0; ++look, --j) {
    std::string piece = tokenizer.piece(ids[j]);
    while (!piece.empty() && (piece.back() == '"' || piece.back() == '\'')) piece.pop_back();
    if (!piece.empty()) {
      const char c = piece.back();
      return c == '.' || c == '!' || c == '?';
    }
  }
  return false;
}

void append(std::vector<int>& to, const std::vector<int>& ids) {
  to.insert(to.end(), ids.begin(), ids.end());
}

}  // namespace

Needle defaultNeedle() {
  return {"The secret word is apple.", "What is the secret word?", "apple"};
}

void requireNeedle(const Needle& n, const std::string& where) {
  require(!blank(n.needle), where +
                                ": the needle is empty; give the fact to hide, e.g. "
                                "--needle \"The secret word is apple.\"");
  require(!blank(n.question), where +
                                  ": the question is empty; give the question that asks for "
                                  "the needle, e.g. --question \"What is the secret word?\"");
  require(!blank(n.answer), where +
                                ": the answer is empty; give the expected answer, e.g. "
                                "--answer apple");
}

std::vector<Needle> readNeedleFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read the needle file " + path + "; give an existing --needle-file");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    throw KvsError("the needle file " + path +
                   " is not JSON; give {\"needle\": ..., \"question\": ..., \"answer\": ...} or "
                   "a list of such objects");
  }
  const nlohmann::json entries = doc.is_array() ? doc : nlohmann::json::array({doc});
  require(!entries.empty(), "the needle file " + path +
                                " holds an empty list; give at least one "
                                "{\"needle\", \"question\", \"answer\"}");
  std::vector<Needle> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string where =
        path + (doc.is_array() ? " entry " + std::to_string(i + 1) : std::string());
    require(entries[i].is_object(),
            where + " is not an object {\"needle\": ..., \"question\": ..., \"answer\": ...}");
    Needle n{stringField(entries[i], where, "needle", "the fact hidden in the haystack"),
             stringField(entries[i], where, "question", "the question that asks for it"),
             stringField(entries[i], where, "answer", "the expected answer")};
    requireNeedle(n, where);
    out.push_back(std::move(n));
  }
  return out;
}

std::string defaultHaystackPath() {
  // The checkout the build was configured from, as KVS_LONGBENCH_DEFAULT_DIR (core/CMakeLists.txt).
  return KVS_NEEDLE_DEFAULT_HAYSTACK;
}

std::string readHaystack(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good() && !std::filesystem::is_directory(path),
          "cannot read the haystack " + path + "; give an existing text file as --haystack");
  std::string text;
  for (std::string line; std::getline(in, line);) {
    if (blank(line) || line[0] == '#') continue;
    if (!text.empty()) text += ' ';
    text += trimmed(line);
  }
  require(!text.empty(), "the haystack " + path +
                             " holds no text (blank lines and lines "
                             "starting with '#' are skipped); give a text "
                             "file as --haystack");
  return text;
}

int NeedleParts::fixedTokens() const {
  return static_cast<int>(prefix.size() + needle.size() + suffix.size());
}

NeedleParts tokenizeNeedle(const Tokenizer& tokenizer, const std::string& haystack,
                           const Needle& needle, bool chat) {
  NeedleParts p;
  p.haystack = tokenizer.encode(haystack, /*addBos=*/false);
  p.prefix = tokenizer.encode(chat ? "[INST]" : "", /*addBos=*/true);
  p.needle = tokenizer.encode(trimmed(needle.needle), false);
  p.suffix = tokenizer.encode("\n\nQuestion: " + trimmed(needle.question) + "\nAnswer:", false);
  if (chat) append(p.suffix, tokenizer.encode("[/INST]", false));
  p.answer = tokenizer.encode(trimmed(needle.answer), false);
  return p;
}

bool startsSentence(const Tokenizer& tokenizer, const std::vector<int>& ids, int k) {
  if (k <= 0 || k >= static_cast<int>(ids.size())) return true;
  return tokenizer.piece(ids[k]).rfind(kWordStart, 0) == 0 && endsSentence(tokenizer, ids, k - 1);
}

NeedlePrompt buildNeedlePrompt(const Tokenizer& tokenizer, const NeedleParts& parts, int length,
                               double depth) {
  const int H = length - parts.fixedTokens();
  require(H >= 1 && H <= static_cast<int>(parts.haystack.size()) && depth >= 0 && depth <= 1,
          "needle cell L" + std::to_string(length) + " is outside what the haystack allows");
  const std::vector<int> hay(parts.haystack.begin(), parts.haystack.begin() + H);  // [H]
  const double target = depth * H;
  int k = 0;  // the nearest sentence start; scanning upwards keeps the earlier one on a tie
  for (int i = 1; i <= H; ++i) {
    if (std::abs(i - target) < std::abs(k - target) && startsSentence(tokenizer, hay, i)) k = i;
  }
  NeedlePrompt out;
  out.haystackTokens = H;
  out.ids = parts.prefix;
  out.ids.insert(out.ids.end(), hay.begin(), hay.begin() + k);
  out.needlePos = static_cast<int>(out.ids.size());
  append(out.ids, parts.needle);
  out.ids.insert(out.ids.end(), hay.begin() + k, hay.end());
  append(out.ids, parts.suffix);
  out.depthPos = static_cast<double>(parts.prefix.size()) + target;
  return out;
}

std::string needleCellId(int length, double depth) {
  char text[64];
  std::snprintf(text, sizeof text, "L%d_d%g", length, depth);
  return text;
}

bool answerContains(const std::string& generated, const std::string& expected) {
  return lowerAscii(generated).find(lowerAscii(trimmed(expected))) != std::string::npos;
}

}  // namespace kvs::eval
