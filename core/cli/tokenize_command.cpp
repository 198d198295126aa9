// kvstudio-cli tokenize: ids (with BOS) and pieces of a text.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/validators.h"
#include "tokenizer/tokenizer.h"

namespace kvs::cli {
namespace {

struct TokenizeOptions {
  std::string tokenizer;
  std::string text;
  bool noBos = false;
  bool json = false;
};

int runTokenize(const TokenizeOptions& o) {
  const Tokenizer tokenizer = Tokenizer::load(o.tokenizer);
  const std::vector<int> ids = tokenizer.encode(o.text, !o.noBos);
  std::vector<std::string> pieces;
  for (int id : ids) pieces.push_back(tokenizer.piece(id));
  if (o.json) {
    nlohmann::ordered_json out;
    out["tokenizer"] = o.tokenizer;
    out["text"] = o.text;
    out["ids"] = ids;
    out["pieces"] = pieces;
    std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
  std::cout << "\n";
  for (size_t i = 0; i < pieces.size(); ++i) std::cout << (i ? " " : "") << pieces[i];
  std::cout << "\n";
  return 0;
}

}  // namespace

Action addTokenizeCommand(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  app.add_option("--tokenizer", o->tokenizer, "SentencePiece .model file")
      ->required()
      ->check(nonEmptyPath());
  app.add_option("--text", o->text, "Text to tokenize")->required();
  app.add_flag("--no-bos", o->noBos, "Do not prepend BOS");
  app.add_flag("--json", o->json, "Print one JSON object");
  return [o] { return runTokenize(*o); };
}

}  // namespace kvs::cli
