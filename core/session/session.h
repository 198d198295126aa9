#pragma once
// Session: one model, its tokenizer and a prompt's kept prefill (architecture.md). The front ends
// are thin adapters over it: kvstudio-cli's generate and compare, and the GUI's SessionWorker,
// which owns one on its thread. A prompt becomes a request in one place (makeRequest), every
// decode goes through the one decode path (session/decode.h), and a recording's metadata is
// described in one place (describeRun).
//
// A session opened from a recording has the kept prefill but no model: the views of the prompt
// work, decoding does not.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "io/recording_options.h"
#include "model/model_loader.h"
#include "session/comparison.h"
#include "session/decode.h"
#include "session/prefill_state.h"
#include "session/request.h"

namespace kvs {

class LlamaModel;
class Tokenizer;

class Session {
 public:
  // modelPath: the checkpoint as the user named it (a file or a Hugging Face folder), for
  // recordings.
  Session(std::unique_ptr<LlamaModel> model, std::unique_ptr<Tokenizer> tokenizer,
          std::string modelPath);
  // A recording's prompt, without its model.
  explicit Session(PrefillState recorded);
  // Loads the model at path and its tokenizer (tokenizerPath, or the one next to the model whose
  // vocabulary matches). checkpointPath: what recordings name and hash (default: path).
  static std::unique_ptr<Session> open(const std::string& path, const LoadOptions& options,
                                       const std::string& tokenizerPath = "",
                                       const std::string& checkpointPath = "");
  ~Session();

  bool hasModel() const { return model_ != nullptr; }
  const LlamaModel& model() const;
  const Tokenizer& tokenizer() const;

  // The request of a prompt, every check done once (makeRequest).
  GenerationRequest request(const PromptSpec& spec,
                            std::vector<std::string>* notes = nullptr) const;

  // A variant from a fresh prefill that is not kept (kvstudio-cli generate): runVariant.
  DecodeResult run(const GenerationRequest& request, const CompressionParams& params,
                   const DecodeHooks& hooks = {}) const;

  // Runs the request's prompt and keeps its prefill; the previous one is dropped first (two
  // prompts' states need not fit at once). keepGoing is asked per layer (false: KvsError
  // "cancelled", nothing kept); observer (e.g. a recorder) sees the prompt's taps.
  const PrefillState& prefill(const GenerationRequest& request, const KeepGoing& keepGoing = {},
                              LayerObserver* observer = nullptr);
  bool hasPrefill() const { return state_ != nullptr; }
  const PrefillState& state() const;
  // The request whose prompt is kept (from a recording: its prompt ids only).
  const GenerationRequest& keptRequest() const { return request_; }

  // A variant decoded from the kept prefill under the kept request.
  DecodeResult decode(const CompressionParams& params, const DecodeHooks& hooks = {}) const;
  // The kept prompt's variants against the full cache (compareVariants from the kept prefill).
  std::vector<VariantOutcome> compare(const std::vector<CompressionParams>& variants,
                                      const Progress& progress = {}) const;

  // What a recording's /meta says about a run of this session's model and tokenizer: the prompt
  // as given, the request's ids and seed, the command ("generate", "compare") and its settings.
  // The checkpoint is hashed once per session; keepGoing can stop that (KvsError "cancelled").
  RecordingMeta describeRun(const std::string& prompt, const GenerationRequest& request,
                            const std::string& command, const nlohmann::json& settings,
                            const KeepGoing& keepGoing = {});
  bool checkpointHashed() const { return !checkpointSha256_.empty(); }
  // The settings of a generation as recordings store them (sampling, steps, dtypes, chat,
  // compression): the same for the CLI's generate and the GUI's run.
  nlohmann::json generateSettings(const GenerationRequest& request, const PromptSpec& spec,
                                  const CompressionParams& params) const;

 private:
  std::unique_ptr<LlamaModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string modelPath_, checkpointSha256_;
  std::unique_ptr<PrefillState> state_;
  GenerationRequest request_;  // of the kept prefill
};

// The figures of a decoded variant as a recording stores them (bytes, ratio, timings, the
// decisions): one definition for `generate --record` and the GUI's recording.
std::string variantFigures(const DecodeResult& r);

}  // namespace kvs
