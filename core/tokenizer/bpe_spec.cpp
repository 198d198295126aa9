#include "tokenizer/bpe_spec.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/output_path.h"
#include "tokenizer/sentencepiece_model_check.h"  // shownOnOneLine
#include "util/error.h"

namespace kvs {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// tokenizer.json files are a few to some tens of megabytes; more is something else.
constexpr std::uintmax_t kMaxJsonBytes = std::uintmax_t{512} << 20;

// Llama 3.x and Qwen2/2.5/3 pre-tokenize with a Split regex followed by a ByteLevel without its
// own regex; GPT-2-style files use ByteLevel's built-in regex instead, which is this one.
const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

const std::string kFix =
    "; use the tokenizer.json published with the model (byte-level BPE, as Llama 3.x and "
    "Qwen2/2.5/3 have), or the model's SentencePiece tokenizer.model";

std::string where(const std::string& path) {
  return "tokenizer " + path + ": ";
}

[[noreturn]] void refuse(const std::string& path, const std::string& what,
                         const std::string& fix = kFix) {
  throw KvsError(where(path) + what + fix);
}

json readJson(const std::string& path) {
  std::error_code ec;
  require(fs::exists(path, ec), "tokenizer file not found: " + path +
                                    "; give the model's tokenizer.json or tokenizer.model");
  requireRegularFile(path, "tokenizer file");
  const std::uintmax_t size = fs::file_size(path, ec);
  require(!ec, "cannot read tokenizer file " + path + ": " + ec.message());
  require(size <= kMaxJsonBytes,
          where(path) + std::to_string(size) + " bytes is far more than a tokenizer.json" + kFix);
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read tokenizer file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    refuse(path, "not JSON (" + shownOnOneLine(e.what(), 160) + ")",
           "; the file is damaged or truncated: use an intact copy of the model's tokenizer.json");
  }
}

std::string typeOf(const json& j) {
  return j.is_object() && j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>()
                                                                      : std::string();
}

bool isAbsent(const json& o, const char* key) {
  return !o.contains(key) || o[key].is_null();
}

bool flag(const json& o, const char* key, bool fallback, const std::string& path) {
  if (isAbsent(o, key)) return fallback;
  if (!o[key].is_boolean()) refuse(path, std::string("\"") + key + "\" is not true or false");
  return o[key].get<bool>();
}

// Ids run from 0 without gaps, so none is past the number of tokens the file lists; checked
// before an id sizes a table (a hostile id of 2^31 must not).
int64_t tokenCount(const json& t) {
  int64_t n = 0;
  if (t.contains("model") && t["model"].is_object() && t["model"].contains("vocab"))
    n += static_cast<int64_t>(t["model"]["vocab"].size());
  if (t.contains("added_tokens")) n += static_cast<int64_t>(t["added_tokens"].size());
  return n;
}

int idOf(const json& j, const std::string& what, const std::string& path, int64_t count) {
  if (!j.is_number_integer()) refuse(path, what + " is not an integer id");
  const int64_t id = j.get<int64_t>();
  if (id < 0 || id >= count)
    refuse(path, what + " has id " + std::to_string(id) + ", out of range: the file lists " +
                     std::to_string(count) + " tokens, and ids run from 0 without gaps");
  return static_cast<int>(id);
}

void readNormalizer(const json& t, BpeSpec* spec) {
  if (isAbsent(t, "normalizer")) return;
  if (typeOf(t["normalizer"]) == "NFC") {
    spec->nfc = true;
    return;
  }
  refuse(spec->path, "normalizer " + shownOnOneLine(t["normalizer"].dump(), 120) +
                         " is not implemented (only none or NFC)");
}

// Sequence [Split(Regex, Isolated)..., ByteLevel(no prefix space, no regex)] or a lone ByteLevel
// with its GPT-2 regex: the shapes Llama 3.x, Qwen2/2.5/3 and GPT-2 files use.
void readPreTokenizer(const json& t, BpeSpec* spec) {
  const std::string& path = spec->path;
  if (isAbsent(t, "pre_tokenizer")) refuse(path, "no pre_tokenizer; a byte-level BPE needs one");
  const json& pre = t["pre_tokenizer"];
  std::vector<json> steps;
  if (typeOf(pre) == "Sequence") {
    if (!pre.contains("pretokenizers") || !pre["pretokenizers"].is_array())
      refuse(path, "pre_tokenizer Sequence has no \"pretokenizers\" list");
    for (const json& step : pre["pretokenizers"]) steps.push_back(step);
  } else {
    steps.push_back(pre);
  }
  if (steps.empty() || typeOf(steps.back()) != "ByteLevel")
    refuse(path,
           "the pre_tokenizer does not end with ByteLevel; only byte-level BPE is implemented");
  for (size_t i = 0; i < steps.size(); ++i) {
    const json& step = steps[i];
    const std::string type = typeOf(step);
    const std::string shown = shownOnOneLine(step.dump(), 160);
    if (type == "ByteLevel") {
      if (i + 1 != steps.size())
        refuse(path, "pre_tokenizer has ByteLevel before its end: " + shown);
      if (flag(step, "add_prefix_space", false, path))
        refuse(path, "pre_tokenizer ByteLevel with add_prefix_space is not implemented");
      if (flag(step, "use_regex", true, path)) spec->splitPatterns.push_back(kGpt2Pattern);
    } else if (type == "Split") {
      const bool isolated = step.contains("behavior") && step["behavior"] == "Isolated";
      if (!isolated || flag(step, "invert", false, path))
        refuse(path,
               "pre_tokenizer Split other than behavior Isolated, invert false is not "
               "implemented: " +
                   shown);
      if (!step.contains("pattern") || !step["pattern"].is_object() ||
          !step["pattern"].contains("Regex") || !step["pattern"]["Regex"].is_string())
        refuse(path, "pre_tokenizer Split without a {\"Regex\": ...} pattern is not implemented: " +
                         shown);
      spec->splitPatterns.push_back(step["pattern"]["Regex"].get<std::string>());
    } else {
      refuse(path, "pre_tokenizer " + shown + " is not implemented");
    }
  }
}

void readDecoderAndPostProcessor(const json& t, const std::string& path) {
  if (isAbsent(t, "decoder") || typeOf(t["decoder"]) != "ByteLevel")
    refuse(path, "decoder " +
                     (t.contains("decoder") ? shownOnOneLine(t["decoder"].dump(), 120)
                                            : std::string("(none)")) +
                     " is not implemented (only ByteLevel)");
  // The post-processor only adds special tokens around the text (BOS, which encode's addBos
  // adds from tokenizer_config.json) or fixes offsets, which are not used.
  if (isAbsent(t, "post_processor")) return;
  const json& post = t["post_processor"];
  std::vector<json> steps;
  if (typeOf(post) == "Sequence" && post.contains("processors") && post["processors"].is_array())
    steps.assign(post["processors"].begin(), post["processors"].end());
  else
    steps.push_back(post);
  for (const json& step : steps) {
    const std::string type = typeOf(step);
    if (type != "ByteLevel" && type != "TemplateProcessing")
      refuse(path, "post_processor " + shownOnOneLine(step.dump(), 120) + " is not implemented");
  }
}

void setPiece(BpeSpec* spec, int id, const std::string& content) {
  if (static_cast<int>(spec->pieces.size()) <= id) spec->pieces.resize(id + 1);
  std::string& slot = spec->pieces[id];
  if (!slot.empty() && slot != content)
    refuse(spec->path, "id " + std::to_string(id) + " is given to both \"" +
                           shownOnOneLine(slot, 40) + "\" and \"" + shownOnOneLine(content, 40) +
                           "\"");
  slot = content;
}

void readModel(const json& t, BpeSpec* spec) {
  const std::string& path = spec->path;
  const int64_t count = tokenCount(t);
  if (!t.contains("model") || !t["model"].is_object()) refuse(path, "no \"model\" object");
  const json& m = t["model"];
  if (typeOf(m) != "BPE")
    refuse(path, "model type \"" + typeOf(m) + "\" is not implemented (only BPE)");
  if (flag(m, "byte_fallback", false, path))
    refuse(path,
           "BPE with byte_fallback (SentencePiece-style, e.g. Llama 2 or Mistral) is not "
           "implemented",
           "; give the model's SentencePiece tokenizer.model instead");
  if (!isAbsent(m, "dropout") && !(m["dropout"].is_number() && m["dropout"].get<double>() == 0.0))
    refuse(path, "BPE dropout is not implemented");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!isAbsent(m, key) && m[key] != "")
      refuse(path, std::string("BPE ") + key + " is not implemented");
  }
  spec->ignoreMerges = flag(m, "ignore_merges", false, path);
  if (!m.contains("vocab") || !m["vocab"].is_object())
    refuse(path, "model has no \"vocab\" object");
  if (!m.contains("merges") || !m["merges"].is_array() || m["merges"].empty())
    refuse(path, "model has no \"merges\" list");
  for (const auto& [piece, id] : m["vocab"].items()) {
    const int i = idOf(id, "vocab entry \"" + shownOnOneLine(piece, 40) + "\"", path, count);
    spec->vocab.emplace(piece, i);
    setPiece(spec, i, piece);
  }
  const auto vocabId = [&](const std::string& piece, size_t rank) {
    const auto it = spec->vocab.find(piece);
    if (it == spec->vocab.end())
      refuse(path, "merge " + std::to_string(rank) + " names \"" + shownOnOneLine(piece, 40) +
                       "\", which is not in the vocabulary");
    return it->second;
  };
  const json& merges = m["merges"];
  spec->merges.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const json& merge = merges[rank];
    std::string left, right;
    if (merge.is_string()) {  // "a b", the format before tokenizers 0.20
      const std::string s = merge.get<std::string>();
      const size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        refuse(path, "merge " + std::to_string(rank) + " \"" + shownOnOneLine(s, 40) +
                         "\" is not two pieces separated by one space");
      left = s.substr(0, space), right = s.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      left = merge[0].get<std::string>(), right = merge[1].get<std::string>();
    } else {
      refuse(path, "merge " + std::to_string(rank) + " is neither \"a b\" nor [\"a\", \"b\"]");
    }
    spec->merges.push_back(
        {vocabId(left, rank), vocabId(right, rank), vocabId(left + right, rank)});
  }
}

void readAddedTokens(const json& t, BpeSpec* spec) {
  const std::string& path = spec->path;
  const int64_t count = tokenCount(t);
  if (isAbsent(t, "added_tokens")) return;
  if (!t["added_tokens"].is_array()) refuse(path, "\"added_tokens\" is not a list");
  for (const json& a : t["added_tokens"]) {
    if (!a.is_object() || !a.contains("content") || !a["content"].is_string() ||
        a["content"].get<std::string>().empty() || !a.contains("id"))
      refuse(path, "added token " + shownOnOneLine(a.dump(), 80) + " has no content or id");
    BpeAddedToken token;
    token.content = a["content"].get<std::string>();
    token.id =
        idOf(a["id"], "added token \"" + shownOnOneLine(token.content, 40) + "\"", path, count);
    token.special = flag(a, "special", false, path);
    for (const char* key : {"single_word", "lstrip", "rstrip"}) {
      if (flag(a, key, false, path))
        refuse(path, "added token \"" + shownOnOneLine(token.content, 40) + "\" has " + key +
                         ", which is not implemented");
    }
    setPiece(spec, token.id, token.content);
    spec->added.push_back(token);
  }
}

// bos_token / eos_token: a string, an AddedToken object, or null.
int specialId(const json& config, const char* key, const BpeSpec& spec, const std::string& path) {
  if (isAbsent(config, key)) return -1;
  const json& v = config[key];
  std::string content;
  if (v.is_string()) {
    content = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    content = v["content"].get<std::string>();
  } else {
    refuse(path, std::string("\"") + key + "\" is neither a token nor null");
  }
  for (const BpeAddedToken& a : spec.added) {
    if (a.content == content) return a.id;
  }
  const auto it = spec.vocab.find(content);
  if (it == spec.vocab.end())
    refuse(path, std::string(key) + " \"" + shownOnOneLine(content, 40) + "\" is not a token of " +
                     spec.path);
  return it->second;
}

void readConfig(BpeSpec* spec) {
  const fs::path configPath = fs::path(spec->path).parent_path() / "tokenizer_config.json";
  std::error_code ec;
  if (!fs::exists(configPath, ec)) return;  // no BOS or EOS known
  const json config = readJson(configPath.string());
  if (!config.is_object()) refuse(configPath.string(), "not a JSON object");
  spec->bosId = specialId(config, "bos_token", *spec, configPath.string());
  spec->eosId = specialId(config, "eos_token", *spec, configPath.string());
}

}  // namespace

char32_t byteLevelCodePoint(unsigned char b) {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int c = 0; c < 256; ++c) {
      const bool printable = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE;
      t[c] = printable ? static_cast<char32_t>(c) : next++;
    }
    return t;
  }();
  return table[b];
}

int byteOfByteLevelCodePoint(char32_t cp) {
  static const std::vector<int> inverse = [] {
    std::vector<int> v(324, -1);  // the table's code points are below 256 + 68
    for (int b = 0; b < 256; ++b) v[byteLevelCodePoint(static_cast<unsigned char>(b))] = b;
    return v;
  }();
  return cp < inverse.size() ? inverse[cp] : -1;
}

BpeSpec readBpeSpec(const std::string& tokenizerJsonPath) {
  BpeSpec spec;
  spec.path = tokenizerJsonPath;
  const json t = readJson(tokenizerJsonPath);
  if (!t.is_object()) refuse(spec.path, "not a JSON object");
  try {
    readModel(t, &spec);
    readAddedTokens(t, &spec);
    readNormalizer(t, &spec);
    readPreTokenizer(t, &spec);
    readDecoderAndPostProcessor(t, spec.path);
  } catch (const json::exception& e) {  // a value of the wrong type where these look
    refuse(spec.path, "unexpected shape (" + shownOnOneLine(e.what(), 160) + ")");
  }
  for (size_t id = 0; id < spec.pieces.size(); ++id) {
    if (spec.pieces[id].empty())
      refuse(spec.path, "no token has id " + std::to_string(id) +
                            " (ids must run from 0 without "
                            "gaps)");
  }
  readConfig(&spec);
  return spec;
}

}  // namespace kvs
