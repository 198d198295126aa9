// kvstudio-cli generate: prompt -> prefill -> decode, streamed or as one JSON object.

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "cache/kv_cache.h"
#include "cli/commands.h"
#include "cli/compression_options.h"
#include "cli/model_options.h"
#include "cli/record_options.h"
#include "cli/validators.h"
#include "kvs/version.h"
#include "model/llama_model.h"
#include "session/generator.h"
#include "session/variant.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"
#include "util/runtime.h"

namespace kvs::cli {
namespace {

constexpr int kDefaultSteps = 256;

struct GenerateOptions {
  ModelOptions model;
  std::string tokenizer;
  std::string prompt;
  bool bosOnly = false;
  bool chat = false;
  std::string system;
  int steps = 0;  // 0 = default
  float temperature = 1.0f;
  float topP = 0.9f;
  uint64_t seed = 0;
  bool seedGiven = false;  // not given: a random seed, reported in the output
  bool json = false;
  CompressionOptions compression;
  RecordCliOptions record;
};

std::vector<int> promptIds(const GenerateOptions& o, const Tokenizer& tokenizer, bool promptGiven) {
  if (o.bosOnly) {
    require(!promptGiven, "--prompt and --bos-only exclude each other");
    require(!o.chat, "--chat needs a user message: pass --prompt TEXT instead of --bos-only");
    return {tokenizer.bosId()};
  }
  require(promptGiven, "no prompt: pass --prompt TEXT, or --bos-only to generate from BOS alone");
  require(o.prompt.find_first_not_of(" \t\r\n") != std::string::npos,
          "the prompt is empty; pass --prompt TEXT with some text, or --bos-only to generate "
          "from BOS alone");
  if (o.chat) return encodeLlama2Chat(tokenizer, o.system, {{o.prompt, ""}});
  return tokenizer.encode(o.prompt, /*addBos=*/true);
}

int chooseSteps(const GenerateOptions& o, int context, int promptTokens) {
  require(promptTokens <= context, "the prompt is " + std::to_string(promptTokens) +
                                       " tokens but the model's context is " +
                                       std::to_string(context) + " positions; shorten the prompt");
  if (o.steps > 0) return o.steps;
  const int steps = std::min(kDefaultSteps, context);
  if (steps < kDefaultSteps) {
    std::cerr << "note: --steps defaults to " << kDefaultSteps
              << ", capped at the model's context of " << context << " positions\n";
  }
  require(promptTokens < steps, "the prompt is " + std::to_string(promptTokens) +
                                    " tokens, which fills the default --steps " +
                                    std::to_string(steps) + "; pass --steps N (up to " +
                                    std::to_string(context) + ")");
  return steps;
}

// What the user should know about the parameters for this prompt (printed and in --json).
std::vector<std::string> budgetNotes(const CompressionParams& p, int promptTokens) {
  if (p.method == Method::kFull || p.budgetTokens < promptTokens) return {};
  std::string note = "--budget-tokens " + std::to_string(p.budgetTokens) +
                     " is not below the prompt's " + std::to_string(promptTokens) +
                     " tokens: the prompt's cache is kept whole, nothing is compressed";
  if (compressesWhileDecoding(p)) {
    note += "; while decoding, the cache is held at the prompt's " + std::to_string(promptTokens) +
            " slots";
  }
  return {note};
}

int runGenerate(const GenerateOptions& o, bool promptGiven) {
  const auto model = loadModel(o.model.model, o.model.resolve());
  const Tokenizer tokenizer =
      locateTokenizer(o.model.model, o.tokenizer, model->config().vocabSize);
  if (o.tokenizer.empty()) std::cerr << "using tokenizer " << tokenizer.path() << "\n";

  GenerationRequest request;
  request.promptIds = promptIds(o, tokenizer, promptGiven);
  request.steps =
      chooseSteps(o, model->config().seqLen, static_cast<int>(request.promptIds.size()));
  request.sampling.temperature = o.temperature;
  request.sampling.topP = o.topP;
  request.sampling.seed = o.seedGiven ? o.seed : std::random_device{}();
  for (int id : {tokenizer.bosId(), tokenizer.eosId()}) {
    if (id >= 0) request.stopIds.push_back(id);
  }
  validateRequest(*model, request);  // before anything is printed
  const CompressionParams params = o.compression.resolve();
  params.validateForModel(model->config().nLayers, model->kvDtype() == at::kFloat);
  o.compression.requireUsedBy({params.method});
  requireDecodeChunkBelowContext(params.decodeChunk, model->config().seqLen);
  const std::vector<std::string> notes =
      budgetNotes(params, static_cast<int>(request.promptIds.size()));
  for (const std::string& note : notes) std::cerr << "note: " << note << "\n";
  // Before generating: a path that cannot take the recording stops the run here (exit 2).
  const RecordingOptions recording =
      o.record.resolve(recordingInputs(o.model.model, tokenizer.path()), model->config());

  std::unique_ptr<Hdf5Recorder> recorder;
  if (o.record.enabled()) {
    const nlohmann::json settings = {{"steps", request.steps},
                                     {"temperature", request.sampling.temperature},
                                     {"top_p", request.sampling.topP},
                                     {"dtype", dtypeName(model->weightDtype())},
                                     {"kv_dtype", dtypeName(model->kvDtype())},
                                     {"chat", o.chat},
                                     {"system", o.system},
                                     {"compression", toJson(params)}};
    recorder = std::make_unique<Hdf5Recorder>(
        recording,
        describeRun(o.model.model, model->config(), tokenizer, o.bosOnly ? "" : o.prompt,
                    request.promptIds, request.sampling.seed, "generate", settings.dump()));
  }

  // A chat answer starts a text of its own (its first piece's space is not printed).
  TokenStreamDecoder continuation(tokenizer,
                                  /*atTextStart=*/o.chat || request.promptIds.size() <= 1);
  TokenCallback print;
  if (!o.json && !o.chat) {
    // As llama2.c prints: the prompt's text (without BOS), then the continuation as it comes.
    TokenStreamDecoder promptText(tokenizer, /*atTextStart=*/true);
    for (size_t i = 1; i < request.promptIds.size(); ++i) {
      std::cout << promptText.push(request.promptIds[i]);
    }
    std::cout << promptText.finish() << std::flush;
  }
  if (!o.json) {
    print = [&](int token) {
      std::cout << continuation.push(token) << std::flush;
      return true;
    };
  }
  VariantHooks hooks;
  hooks.observer = recorder.get();
  hooks.onToken = [&](int token) {
    if (recorder) recorder->appendToken(token, tokenizer.piece(token));
    return print ? print(token) : true;
  };
  const VariantResult variant = runVariant(*model, request, params, hooks);
  const GenerationResult& result = variant.generation;
  const CompressionReport& report = variant.compression;
  if (recorder) {
    const nlohmann::json figures = {{"kv_bytes", report.bytes},
                                    {"kv_bytes_full", report.fullBytes},
                                    {"achieved_ratio", report.achievedRatio},
                                    {"compress_seconds", report.compressSeconds},
                                    {"kv_bytes_final", variant.finalBytes},
                                    {"kv_bytes_peak", variant.peakBytes},
                                    {"prefill_seconds", result.prefillSeconds},
                                    {"decode_seconds", result.decodeSeconds},
                                    {"eps_used", epsUsed(report.decisions)},
                                    {"protected_released", protectedReleased(report.decisions)}};
    recorder->addVariant(
        {variantName(params), params, result.generatedIds, &variant.slotMap, figures.dump()});
  }
  const bool recorded = !o.record.enabled() || finishRecording(recorder.get());
  const int status = recorded ? 0 : 1;

  if (!o.json) {
    std::cout << continuation.finish() << "\n";
    std::cerr << "prefill: " << request.promptIds.size() << " tokens in "
              << result.prefillSeconds * 1000 << " ms; decode: " << result.decodeTokensPerSecond()
              << " tokens/s\n";
    return status;
  }
  nlohmann::ordered_json out;
  out["app_version"] = kVersion;
  out["model"] = o.model.model;
  out["dtype"] = dtypeName(model->weightDtype());
  out["compute_dtype"] = dtypeName(model->computeDtype());
  out["kv_dtype"] = dtypeName(model->kvDtype());
  out["device"] = model->device().str();
  out["weight_bytes"] = model->weightBytes();
  out["tokenizer"] = tokenizer.path();
  out["config"] = toJson(model->config());
  out["prompt"] = o.bosOnly ? "" : o.prompt;
  out["steps"] = request.steps;
  out["temperature"] = request.sampling.temperature;
  out["top_p"] = request.sampling.topP;
  out["seed"] = request.sampling.seed;
  out["threads"] = describe(currentThreads());
  out["prompt_token_ids"] = request.promptIds;
  out["generated_token_ids"] = result.generatedIds;
  out["chat"] = o.chat;
  if (o.chat) out["system"] = o.system;
  out["text"] =
      decodeStream(tokenizer, result.generatedIds, o.chat || request.promptIds.size() <= 1);
  out["stop_reason"] = toString(result.stopReason);
  out["prefill_tokens"] = request.promptIds.size();
  out["prefill_seconds"] = result.prefillSeconds;
  out["decode_tokens"] = result.decodeForwardPasses;
  out["decode_seconds"] = result.decodeSeconds;
  out["decode_tokens_per_second"] = result.decodeTokensPerSecond();
  out["compression"] = toJson(params);
  out["notes"] = notes;
  out["kv_bytes"] = report.bytes;  // right after compression
  out["kv_bytes_full"] = report.fullBytes;
  out["kv_bytes_per_layer"] = report.layerBytes;
  out["achieved_ratio"] = report.achievedRatio;
  out["slots"] = report.slots;                  // [layer][KV head]
  out["eps_used"] = epsUsed(report.decisions);  // [layer][KV head], null: no threshold
  out["protected_released"] = protectedReleased(report.decisions);
  out["compress_seconds"] = report.compressSeconds;
  out["kv_bytes_final"] = variant.finalBytes;
  out["kv_bytes_final_used"] = variant.finalUsedBytes;
  out["kv_bytes_final_full"] = variant.finalFullBytes;
  out["kv_bytes_peak"] = variant.peakBytes;
  if (o.record.enabled()) {
    out["recording"] = {{"path", recording.path},
                        {"complete", recorded},
                        {"tokens", recorder ? recorder->recordedTokens() : 0},
                        {"error", recorder ? recorder->error() : ""}};
  }
  // Invalid UTF-8 in the prompt or the text becomes U+FFFD rather than failing after the run.
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return status;
}

}  // namespace

Action addGenerateCommand(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  addModelOptions(app, o->model);
  app.add_option("--tokenizer", o->tokenizer,
                 "SentencePiece .model file (default: the one next to the model whose "
                 "vocabulary matches)")
      ->check(nonEmptyPath());
  auto* prompt = app.add_option("--prompt", o->prompt, "Prompt text (BOS is added)");
  app.add_flag("--bos-only", o->bosOnly, "Generate from BOS alone, without a prompt");
  app.add_flag("--chat", o->chat,
               "Wrap --prompt in the Llama-2-chat format ([INST] ... [/INST]) and print only the "
               "answer; generation stops at EOS");
  auto* system =
      app.add_option("--system", o->system, "System prompt for --chat (<<SYS>> ... <</SYS>>)");
  app.add_option("--steps", o->steps,
                 "Positions to run, the prompt's included, as llama2.c's -n (default 256, "
                 "capped at the model's context)")
      ->check(positiveWhole());
  app.add_option("--temperature", o->temperature, "Sampling temperature; 0 = greedy")
      ->check(nonNegativeFinite());
  app.add_option("--top-p", o->topP, "Nucleus sampling mass in (0, 1]")
      ->check(unitIntervalOpenBelow());
  auto* seed =
      app.add_option("--seed", o->seed, "Random seed (default: random, reported in --json)")
          ->check(seedNumber());
  app.add_flag("--json", o->json, "Print one JSON object instead of streaming text");
  addCompressionOptions(app, o->compression);
  addRecordOptions(app, o->record);
  return [o, prompt, system, seed] {
    require(system->count() == 0 || o->chat, "--system needs --chat");
    o->seedGiven = seed->count() > 0;
    return runGenerate(*o, prompt->count() > 0);
  };
}

}  // namespace kvs::cli
