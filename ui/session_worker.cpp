// Core headers first: some have members named `slots`, a Qt macro.
#include "cache/kv_cache.h"
#include "io/hdf5_recorder.h"
#include "io/recording_options.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "session/comparison.h"
#include "session/generator.h"
#include "session/prefill_state.h"
#include "session/variant_from_state.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

#include "session_worker.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <exception>
#include <string>
#include <vector>

#include "model_description.h"
#include "process_memory.h"
#include "run_recording.h"

namespace kvs::ui {
namespace {

// KvsError messages are written for users; anything else is a bug or a LibTorch failure.
QString messageOf(const std::exception& e) {
  if (dynamic_cast<const KvsError*>(&e)) return QString::fromStdString(e.what());
  return QStringLiteral("internal error: ") + QString::fromStdString(e.what());
}

template <typename T>
QVector<qint64> toQVector(const std::vector<T>& v) {
  return QVector<qint64>(v.begin(), v.end());
}

}  // namespace

SessionWorker::SessionWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<GenerationJob>();
  qRegisterMetaType<GenerationStats>();
  qRegisterMetaType<CompressionParams>();
  qRegisterMetaType<PromptInfo>();
  qRegisterMetaType<LayoutResult>();
  qRegisterMetaType<SimilarityResult>();
  qRegisterMetaType<VariantSummary>();
  qRegisterMetaType<OverviewData>();
  qRegisterMetaType<CompareResult>();
  qRegisterMetaType<RecordingReport>();
}

SessionWorker::~SessionWorker() = default;

void SessionWorker::loadModel(const QString& path) {
  state_.reset();
  model_.reset();
  tokenizer_.reset();
  recording_.clear();
  modelSha256_.clear();
  try {
    require(!path.trimmed().isEmpty(),
            "no model given; choose a llama2.c .bin file or a Hugging Face folder with Browse");
    emit phase(tr("loading"));
    const std::string file = QFile::encodeName(path).toStdString();
    LoadOptions options;  // a progress bar per layer, and Stop between layers
    options.progress = [this](int done, int total) {
      emit progress(done, total);
      return !stop_;
    };
    auto model = kvs::loadModel(file, options);
    auto tokenizer =
        std::make_unique<Tokenizer>(locateTokenizer(file, "", model->config().vocabSize));
    require(!stop_, "loading was stopped; load the model again to use it");
    const QString description =
        describeModel(path, model->config(), QString::fromStdString(tokenizer->path()));
    const int context = model->config().seqLen;
    model_ = std::move(model);
    tokenizer_ = std::move(tokenizer);
    modelName_ = QFileInfo(path).fileName();
    modelPath_ = kvs::describeModel(file).path;  // a Hugging Face folder, not its config.json
    queryHeads_ = model_->config().nHeads;
    emit modelLoaded(description, context);
  } catch (const std::exception& e) {
    emit failed(messageOf(e), 0);
  }
}

void SessionWorker::run(const GenerationJob& job, const CompressionParams& params, quint64 ticket) {
  if (!current(kWork, ticket)) {
    dropArmedRecording(ticket, tr("the run was superseded before it started"));
    return;
  }
  try {
    runChecked(job, params, ticket);
  } catch (const std::exception& e) {
    if (recorder_) endRecording(/*finish=*/false, ticket);
    dropArmedRecording(ticket, tr("the run ended before it could record"));
    if (!current(kWork, ticket)) return;  // superseded while it ran
    reportFailure(e, ticket);
  }
  if (recorder_) endRecording(/*finish=*/false, ticket);  // superseded: kept, marked incomplete
  // A recording armed for this run belongs to it alone, whether or not the run got that far.
  dropArmedRecording(ticket, tr("the run ended before it could record"));
}

void SessionWorker::reportFailure(const std::exception& e, quint64 ticket) {
  if (!isCancelled(e)) {
    emit failed(messageOf(e), ticket);
    return;
  }
  GenerationStats stats;  // stopped before any token
  stats.stopReason = QStringLiteral("cancelled");
  stats.ticket = ticket;
  emit finished(stats);
}

void SessionWorker::runChecked(const GenerationJob& job, const CompressionParams& params,
                               quint64 ticket) {
  require(model_ && tokenizer_, recording_.isEmpty()
                                    ? "no model is loaded; choose a model file first"
                                    : "a recording is open, without its model; load a model to "
                                      "generate");
  params.validate();
  const Tokenizer& tokenizer = *tokenizer_;
  const int context = model_->config().seqLen;
  auto request = std::make_unique<GenerationRequest>();
  const std::string prompt = job.prompt.toStdString();
  const bool blank = prompt.find_first_not_of(" \t\r\n") == std::string::npos;
  if (job.chat) {
    require(!blank, "the chat format needs a user message; type a prompt");
    request->promptIds = encodeLlama2Chat(tokenizer, job.system.toStdString(), {{prompt, ""}});
  } else if (blank) {
    request->promptIds = {tokenizer.bosId()};
  } else {
    request->promptIds = tokenizer.encode(prompt, /*addBos=*/true);
  }
  const int P = static_cast<int>(request->promptIds.size());
  // The core's own checks speak of CLI flags; say it in the GUI's terms first.
  require(P <= context, "the prompt is " + std::to_string(P) +
                            " tokens but the model's context is " + std::to_string(context) +
                            " positions; shorten the prompt");
  require(job.steps >= P, "the prompt is " + std::to_string(P) + " tokens but Steps is " +
                              std::to_string(job.steps) +
                              " (Steps counts the prompt's positions too); set Steps to " +
                              std::to_string(P) + " or more, up to " + std::to_string(context));
  request->steps = job.steps;
  request->sampling.temperature = static_cast<float>(job.temperature);
  request->sampling.topP = static_cast<float>(job.topP);
  request->sampling.seed = job.seed;
  for (int id : {tokenizer.bosId(), tokenizer.eosId()}) {
    if (id >= 0) request->stopIds.push_back(id);
  }
  validateRequest(*model_, *request);
  if (armed_) startRecording(job, *request, params);

  // As the CLI prints: the prompt's text (without BOS), then the continuation as it comes.
  TokenStreamDecoder promptText(tokenizer, /*atTextStart=*/true);
  QString text;
  QVector<int> charEnds{0};  // where each token's text ends, for colouring tokens
  for (int i = 1; i < P; ++i) {
    text += QString::fromStdString(promptText.push(request->promptIds[i]));
    charEnds.push_back(static_cast<int>(text.size()));
  }
  text += QString::fromStdString(promptText.finish());
  if (!text.isEmpty()) emit textReady(text);
  emit progress(0, request->steps);

  state_.reset();  // two prompts' states need not fit at once
  emit phase(tr("prefill"));
  auto state = std::make_unique<PrefillState>(prefillPrompt(
      *model_, request->promptIds, [&] { return !stop_ && current(kWork, ticket); },
      int64_t(256) << 20, recorder_.get()));
  state_ = std::move(state);
  request_ = std::move(request);

  PromptInfo info;
  const ModelConfig& c = model_->config();
  for (int id : request_->promptIds) {
    info.ids.push_back(id);
    info.pieces.push_back(QString::fromStdString(tokenizer.piece(id)));
  }
  info.text = text;
  info.charEnds = charEnds;
  info.layers = c.nLayers;
  info.kvHeads = c.nKvHeads;
  info.queryHeads = c.nHeads;
  info.hasAttention = !state_->attention.empty();
  info.prefillMs = state_->prefillSeconds * 1000.0;
  info.model = modelName_;
  info.ticket = ticket;
  emit promptReady(info);
  emitLayout(params, ticket);
  GenerationStats stats;
  if (!decodeVariant(params, ticket, /*stream=*/true, /*reference=*/false, &stats)) return;
  // The full cache's continuation, for comparison (it is the one above when nothing compresses),
  // before finished: the run is done when both are shown.
  if (params.method != Method::kFull && stats.stopReason != "cancelled" &&
      !decodeVariant(CompressionParams{}, ticket, false, true, nullptr)) {
    return;
  }
  // Before finished: when Run is enabled again the file is closed.
  if (recorder_) endRecording(stats.stopReason != "cancelled", ticket);
  emit finished(stats);
}

void SessionWorker::emitLayout(const CompressionParams& params, quint64 ticket) {
  QElapsedTimer timer;
  timer.start();
  LayoutResult result;
  result.layout = computeMergingLayout(*state_, params);
  result.params = params;
  result.ms = timer.nsecsElapsed() / 1e6;
  result.ticket = ticket;
  emit layoutReady(result);
}

void SessionWorker::computeLayout(const CompressionParams& params, quint64 ticket) {
  if (!current(kLayout, ticket) || !state_) return;
  emitLayout(params, ticket);
}

void SessionWorker::regenerate(const CompressionParams& params, quint64 ticket) {
  if (!current(kWork, ticket)) return;
  try {
    require(state_ != nullptr, "no prompt has been run yet; press Run first");
    require(model_ != nullptr, "a recording is open, without its model; load a model to generate");
    GenerationStats stats;
    if (decodeVariant(params, ticket, /*stream=*/false, /*reference=*/false, &stats)) {
      emit finished(stats);
    }
  } catch (const std::exception& e) {
    if (current(kWork, ticket)) reportFailure(e, ticket);
  }
}

bool SessionWorker::decodeVariant(const CompressionParams& params, quint64 ticket, bool stream,
                                  bool reference, GenerationStats* statsOut) {
  const GenerationRequest& request = *request_;
  const int P = state_->tokens();
  TokenStreamDecoder decoder(*tokenizer_, /*atTextStart=*/P <= 1);
  std::string text;
  int generated = 0;
  const auto keepGoing = [&] { return !stop_ && current(kWork, ticket); };
  RunRecording* recording = reference ? nullptr : recorder_.get();  // one decode stream recorded
  const TokenCallback onToken = [&](int token) {
    if (recording) recording->appendToken(token, tokenizer_->piece(token));
    ++generated;
    const std::string chunk = decoder.push(token);
    text += chunk;
    if (stream && !chunk.empty()) emit textReady(QString::fromStdString(chunk));
    if (!reference) emit progress(P + generated - 1, request.steps);
    return keepGoing();
  };
  if (!reference) emit phase(tr("compressing and decoding"));
  StateVariantResult r;
  try {
    r = runVariantFromState(*model_, *state_, request, params, onToken, keepGoing, recording);
  } catch (const std::exception& e) {
    if (!current(kWork, ticket)) return false;
    throw;
  }
  if (!current(kWork, ticket)) return false;  // superseded: a newer setting is coming
  if (reference && r.stopReason == StopReason::kCancelled) return false;  // stopped: not shown
  if (recorder_) recordVariant(params, r);
  const std::string tail = decoder.finish();
  text += tail;
  if (stream && !tail.empty()) emit textReady(QString::fromStdString(tail));

  VariantSummary s;
  s.params = params;
  s.text = QString::fromStdString(text);
  s.ids = QVector<int>(r.generatedIds.begin(), r.generatedIds.end());
  s.layerBytes = toQVector(r.compression.layerBytes);
  for (int l = 0; l < state_->cache.nLayers(); ++l) {
    s.layerFullBytes.push_back(state_->cache.fullLayerBytes());
  }
  s.bytesPerStep = toQVector(r.bytesPerStep);
  s.fullBytesPerStep = toQVector(r.fullBytesPerStep);
  s.achievedRatio = r.compression.achievedRatio;
  s.compressMs = r.compression.compressSeconds * 1000.0;
  s.decodeMs = r.decodeSeconds * 1000.0;
  s.processBytes = residentBytes();
  s.reference = reference;
  s.ticket = ticket;
  emit variantReady(s);
  if (reference) return true;

  GenerationStats stats;
  stats.promptTokens = P;
  stats.generatedTokens = static_cast<int>(r.generatedIds.size());
  stats.steps = request.steps;
  stats.prefillMs = state_->prefillSeconds * 1000.0;
  stats.decodeTokensPerSecond = r.decodeSeconds > 0 ? (generated - 1) / r.decodeSeconds : 0.0;
  stats.stopReason = QString::fromUtf8(toString(r.stopReason));
  stats.regenerated = !stream;
  stats.ticket = ticket;
  if (statsOut) *statsOut = stats;
  return true;
}

void SessionWorker::computeSimilarity(int source, int layer, int head, quint64 ticket) {
  if (!current(kSimilarity, ticket) || !state_) return;
  try {
    if (const QString why = missingSource(source); !why.isEmpty())
      throw KvsError(why.toStdString());
    QElapsedTimer timer;
    timer.start();
    SimilarityResult result;
    result.matrix = similarityMatrix(*state_, static_cast<SimilaritySource>(source), layer, head);
    result.ms = timer.nsecsElapsed() / 1e6;
    result.ticket = ticket;
    emit similarityReady(result);
  } catch (const std::exception& e) {
    emit failed(messageOf(e), 0);
  }
}

void SessionWorker::compare(const QVector<CompressionParams>& variants, quint64 ticket) {
  if (!current(kWork, ticket)) return;
  try {
    require(state_ != nullptr, "no prompt has been run yet; press Run first");
    require(model_ != nullptr, "a recording is open, without its model; load a model to compare");
    emit phase(tr("comparing"));
    const int total = static_cast<int>(variants.size());
    emit progress(0, total);
    const auto outcomes = compareVariants(  // from the kept prefill: the prompt is not run again
        *model_, *state_, request_->steps,
        std::vector<CompressionParams>(variants.begin(), variants.end()), [&](int done, int n) {
          emit progress(done, n);
          return !stop_ && current(kWork, ticket);
        });
    CompareResult result;
    const std::vector<int>& full = outcomes.front().generatedIds;
    for (const VariantOutcome& o : outcomes) {
      CompareRow row;
      row.params = o.params;
      TokenStreamDecoder decoder(*tokenizer_, /*atTextStart=*/state_->tokens() <= 1);
      for (size_t i = 0; i < o.generatedIds.size(); ++i) {
        row.chunks.push_back(QString::fromStdString(decoder.push(o.generatedIds[i])));
        row.differs.push_back(i >= full.size() || o.generatedIds[i] != full[i]);
      }
      if (!row.chunks.isEmpty()) row.chunks.back() += QString::fromStdString(decoder.finish());
      row.meanKl = o.meanKl;
      row.maxKl = o.maxKl;
      row.top1 = o.top1Agreement;
      row.nll = o.nll;
      row.kvBytes = o.kvBytes;
      row.kvBytesFull = o.kvBytesFull;
      row.achievedRatio = o.achievedRatio;
      row.seconds = o.seconds;
      result.rows.push_back(row);
    }
    result.ticket = ticket;
    emit compareReady(result);
    GenerationStats stats;
    stats.stopReason = QStringLiteral("compared");
    stats.generatedTokens = total;  // variants compared
    stats.regenerated = true;
    stats.ticket = ticket;
    emit finished(stats);
  } catch (const std::exception& e) {
    if (current(kWork, ticket)) reportFailure(e, ticket);
  }
}

void SessionWorker::computeOverview(int source, int size, quint64 ticket) {
  if (!current(kOverview, ticket) || !state_) return;
  try {
    if (const QString why = missingSource(source); !why.isEmpty())
      throw KvsError(why.toStdString());
    const auto src = static_cast<SimilaritySource>(source);
    OverviewData data;
    data.source = source;
    data.layers = state_->cache.nLayers();
    data.heads = src == SimilaritySource::kAttention ? queryHeads_ : state_->cache.nKvHeads();
    for (int l = 0; l < data.layers; ++l) {
      for (int h = 0; h < data.heads; ++h) {
        if (!current(kOverview, ticket)) return;  // a newer source was chosen
        SimilarityMatrix m = similarityThumbnail(*state_, src, l, h, size);
        data.size = m.tokens;
        data.thumbnails.push_back(std::move(m.values));
      }
    }
    data.adjacentCos = state_->adjacentCos;
    data.ticket = ticket;
    emit overviewReady(data);
  } catch (const std::exception& e) {
    emit failed(messageOf(e), 0);
  }
}

}  // namespace kvs::ui
