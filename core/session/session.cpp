#include "session/session.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "io/file_digest.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "session/variant.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

namespace kvs {

Session::Session(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
                 std::string modelPath)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), modelPath_(std::move(modelPath)) {
  TORCH_CHECK(model_ && tokenizer_, "Session: a model and a tokenizer are needed");
}

Session::Session(PrefillState recorded)
    : state_(std::make_unique<PrefillState>(std::move(recorded))) {
  request_.promptIds = state_->promptIds;
}

Session::~Session() = default;

std::unique_ptr<Session> Session::open(const std::string& path, const LoadOptions& options,
                                       const std::string& tokenizerPath,
                                       const std::string& checkpointPath) {
  auto model = loadModel(path, options);
  auto tokenizer =
      std::make_unique<Tokenizer>(locateTokenizer(path, tokenizerPath, model->config().vocabSize));
  return std::make_unique<Session>(std::move(model), std::move(tokenizer),
                                   checkpointPath.empty() ? path : checkpointPath);
}

const LlamaModel& Session::model() const {
  TORCH_CHECK(model_, "Session: no model (a recording's session)");
  return *model_;
}

const Tokenizer& Session::tokenizer() const {
  TORCH_CHECK(tokenizer_, "Session: no tokenizer (a recording's session)");
  return *tokenizer_;
}

const PrefillState& Session::state() const {
  TORCH_CHECK(state_, "Session: no prompt has been prefilled");
  return *state_;
}

GenerationRequest Session::request(const PromptSpec& spec, std::vector<std::string>* notes) const {
  return makeRequest(model(), tokenizer(), spec, notes);
}

DecodeResult Session::run(const GenerationRequest& request, const CompressionParams& params,
                          const DecodeHooks& hooks) const {
  return runVariant(model(), request, params, hooks);
}

const PrefillState& Session::prefill(const GenerationRequest& request, const KeepGoing& keepGoing,
                                     LayerObserver* observer) {
  state_.reset();
  state_ = std::make_unique<PrefillState>(
      prefillPrompt(model(), request.promptIds, keepGoing, int64_t(256) << 20, observer));
  request_ = request;
  return *state_;
}

DecodeResult Session::decode(const CompressionParams& params, const DecodeHooks& hooks) const {
  return runVariantFromState(model(), state(), request_, params, hooks);
}

std::vector<VariantOutcome> Session::compare(const std::vector<CompressionParams>& variants,
                                             const Progress& progress) const {
  return compareVariants(model(), state(), request_.steps, variants, progress);
}

RecordingMeta Session::describeRun(const std::string& prompt, const GenerationRequest& request,
                                   const std::string& command, const nlohmann::json& settings,
                                   const KeepGoing& keepGoing) {
  RecordingMeta m;
  m.config = model().config();
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(modelPath_, ec);
  m.checkpointPath = ec ? modelPath_ : absolute.string();
  if (checkpointSha256_.empty()) checkpointSha256_ = checkpointSha256(modelPath_, keepGoing);
  m.checkpointSha256 = checkpointSha256_;
  m.tokenizerPath = tokenizer().path();
  m.prompt = prompt;
  m.promptIds = request.promptIds;
  for (int id : request.promptIds) m.promptPieces.push_back(tokenizer().piece(id));
  m.seed = request.sampling.seed;
  m.command = command;
  m.settings = settings.dump();
  return m;
}

nlohmann::json Session::generateSettings(const GenerationRequest& request, const PromptSpec& spec,
                                         const CompressionParams& params) const {
  nlohmann::json settings = {{"steps", request.steps},
                             {"temperature", request.sampling.temperature},
                             {"top_p", request.sampling.topP},
                             {"dtype", dtypeName(model().weightDtype())},
                             {"kv_dtype", dtypeName(model().kvDtype())},
                             {"chat", spec.chat},
                             {"system", spec.system},
                             {"compression", toJson(params)}};
  // Only where it applies, so that other models' recordings say what they always did.
  if (model().config().slidingWindow > 0) settings["window_cache"] = toString(request.windowCache);
  return settings;
}

std::string variantFigures(const DecodeResult& r) {
  const CompressionReport& c = r.compression;
  return nlohmann::json{{"kv_bytes", c.bytes},
                        {"kv_bytes_full", c.fullBytes},
                        {"achieved_ratio", c.achievedRatio},
                        {"compress_seconds", c.compressSeconds},
                        {"kv_bytes_final", r.memory.allocated},
                        {"kv_bytes_peak", r.memory.peak},
                        {"prefill_seconds", r.prefillSeconds},
                        {"decode_seconds", r.decodeSeconds},
                        {"eps_used", epsUsed(c.decisions)},
                        {"protected_released", protectedReleased(c.decisions)}}
      .dump();
}

}  // namespace kvs
