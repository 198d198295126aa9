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
#include "session/session.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"
#include "util/runtime.h"

namespace kvs::cli {
namespace {

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

// The flags as a prompt; makeRequest checks what is not about which flags were given.
PromptSpec specOf(const GenerateOptions& o, bool promptGiven) {
  require(!o.bosOnly || !promptGiven, "--prompt and --bos-only exclude each other");
  require(o.bosOnly || promptGiven,
          "no prompt: pass --prompt TEXT, or --bos-only to generate from BOS alone");
  PromptSpec spec;
  spec.text = o.prompt;
  spec.bosOnly = o.bosOnly;
  spec.chat = o.chat;
  spec.system = o.system;
  spec.steps = o.steps;
  spec.sampling.temperature = o.temperature;
  spec.sampling.topP = o.topP;
  spec.sampling.seed = o.seedGiven ? o.seed : std::random_device{}();
  spec.stepsName = "--steps";
  spec.promptFix = "pass --prompt TEXT";
  spec.bosOnlyFix = "--bos-only to generate from BOS alone";
  return spec;
}

// What the user should know about the parameters for this prompt (printed and in --json).
std::vector<std::string> budgetNotes(const CompressionParams& p, int promptTokens) {
  if (!compresses(p) || p.budgetTokens < promptTokens) return {};
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
  const auto opened = Session::open(o.model.model, o.model.resolve(), o.tokenizer);
  Session& session = *opened;
  const LlamaModel& model = session.model();
  const Tokenizer& tokenizer = session.tokenizer();
  if (o.tokenizer.empty()) std::cerr << "using tokenizer " << tokenizer.path() << "\n";

  const PromptSpec spec = specOf(o, promptGiven);
  std::vector<std::string> stepNotes;
  // Every check of the prompt, steps and sampling, before anything is printed.
  GenerationRequest request = session.request(spec, &stepNotes);
  request.windowCache = o.model.resolveWindowCache(model.config());
  for (const std::string& note : stepNotes) std::cerr << "note: " << note << "\n";
  const CompressionParams params = o.compression.resolve();
  params.validateForModel(model.config().nLayers, model.kvDtype() == at::kFloat);
  o.compression.requireUsedBy({params.method}, params);
  requireDecodeChunkBelowContext(params.decodeChunk, model.config().seqLen);
  const std::vector<std::string> notes =
      budgetNotes(params, static_cast<int>(request.promptIds.size()));
  for (const std::string& note : notes) std::cerr << "note: " << note << "\n";
  // Before generating: a path that cannot take the recording stops the run here (exit 2).
  const RecordingOptions recording =
      o.record.resolve(recordingInputs(o.model.model, tokenizer.path()), model.config());

  std::unique_ptr<Hdf5Recorder> recorder;
  if (o.record.enabled()) {
    recorder = std::make_unique<Hdf5Recorder>(
        recording, session.describeRun(o.bosOnly ? "" : o.prompt, request, "generate",
                                       session.generateSettings(request, spec, params)));
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
  DecodeHooks hooks;
  hooks.observer = recorder.get();
  hooks.onToken = [&](int token) {
    if (recorder) recorder->appendToken(token, tokenizer.piece(token));
    return print ? print(token) : true;
  };
  const DecodeResult result = session.run(request, params, hooks);
  const CompressionReport& report = result.compression;
  if (recorder) {
    recorder->addVariant(
        {variantName(params), params, result.generatedIds, &result.cells, variantFigures(result)});
  }
  const bool recorded = !o.record.enabled() || finishRecording(recorder.get());
  const int status = recorded ? 0 : 1;

  if (!o.json) {
    std::cout << continuation.finish() << "\n";
    std::cerr << "prefill: " << request.promptIds.size() << " tokens in "
              << result.prefillSeconds * 1000 << " ms; decode: " << result.decodeTokensPerSecond()
              << " tokens/s\n";
    if (report.window.window > 0) std::cerr << describeWindow(result.memory.window) << "\n";
    return status;
  }
  nlohmann::ordered_json out;
  out["app_version"] = kVersion;
  out["model"] = o.model.model;
  out["dtype"] = dtypeName(model.weightDtype());
  out["compute_dtype"] = dtypeName(model.computeDtype());
  out["kv_dtype"] = dtypeName(model.kvDtype());
  out["device"] = model.device().str();
  out["weight_bytes"] = model.weightBytes();
  out["tokenizer"] = tokenizer.path();
  out["config"] = toJson(model.config());
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
  out["kv_bytes_final"] = result.memory.allocated;
  out["kv_bytes_final_used"] = result.memory.used;
  out["kv_bytes_final_full"] = result.memory.full;
  out["kv_bytes_peak"] = result.memory.peak;
  // null without a sliding window; else what the window dropped by the end (windowJson).
  out["window_cache"] = windowJson(result.memory.window);
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
  addWindowCacheOption(app, o->model);
  app.add_option("--tokenizer", o->tokenizer,
                 "SentencePiece .model file (default: the one next to the model whose "
                 "vocabulary matches)")
      ->check(nonEmptyPath());
  auto* prompt = app.add_option("--prompt", o->prompt, "Prompt text (BOS is added)");
  app.add_flag("--bos-only", o->bosOnly, "Generate from BOS alone, without a prompt");
  app.add_flag("--chat", o->chat,
               "Wrap --prompt in the model's chat format (from its tokenizer: Llama 2's [INST] ... "
               "[/INST], Llama 3's headers or ChatML) and print only the answer; generation "
               "stops at the end of the turn");
  auto* system = app.add_option("--system", o->system,
                                "System prompt for --chat (Llama 2's <<SYS>> block, or the "
                                "format's system turn)");
  app.add_option("--steps", o->steps,
                 "Positions to run, the prompt's included, as llama2.c's -n (default 256, "
                 "capped at the model's context); the app's New tokens counts only the tokens "
                 "after the prompt")
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
