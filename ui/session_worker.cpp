// Core headers first: some have members named `slots`, a Qt macro.
#include "cache/kv_cache.h"
#include "io/hdf5_recorder.h"
#include "io/recording_options.h"
#include "model/llama_model.h"
#include "model/model_loader.h"
#include "session/session.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
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

bool SessionWorker::hasModel() const {
  return session_ && session_->hasModel();
}

const PrefillState* SessionWorker::kept() const {
  return session_ && session_->hasPrefill() ? &session_->state() : nullptr;
}

void SessionWorker::loadModel(const QString& path) {
  try {
    require(!path.trimmed().isEmpty(),
            "no model given; choose a llama2.c .bin file or a Hugging Face folder with Browse");
    Q_EMIT phase(tr("loading"));
    const std::string file = QFile::encodeName(path).toStdString();
    // A wrong file (say /etc/passwd typed into the Model field) is refused from its header
    // before anything is dropped, so the user keeps the model they had. Only then do the old
    // model and prompt go: two large models need not fit in memory at once.
    const std::string checkpoint = kvs::describeModel(file).path;
    if (session_ || !recording_.isEmpty()) {
      session_.reset();
      recording_.clear();
      recorded_.clear();
      Q_EMIT modelDropped();  // a failure from here on leaves no model
    }
    LoadOptions options;  // a progress bar per layer, and Stop between layers
    options.progress = [this](int done, int total) {
      Q_EMIT progress(done, total);
      return !stop_;
    };
    // Recordings name a Hugging Face folder, not its config.json.
    auto session = Session::open(file, options, "", checkpoint);
    require(!stop_, "loading was stopped; load the model again to use it");
    const ModelConfig& config = session->model().config();
    const QString description =
        describeModel(path, config, QString::fromStdString(session->tokenizer().path()));
    const int context = config.seqLen;
    queryHeads_ = config.nHeads;
    session_ = std::move(session);
    modelName_ = QFileInfo(path).fileName();
    Q_EMIT modelLoaded(description, context);
  } catch (const std::exception& e) {
    Q_EMIT failed(messageOf(e), 0);
  }
}

void SessionWorker::run(const GenerationJob& job, const CompressionParams& params, quint64 ticket,
                        std::optional<RecordingOptions> recording) {
  if (recording) armed_ = std::make_unique<RecordingOptions>(std::move(*recording));
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
    Q_EMIT failed(messageOf(e), ticket);
    return;
  }
  GenerationStats stats;  // stopped before any token
  stats.stopReason = QStringLiteral("cancelled");
  stats.ticket = ticket;
  Q_EMIT finished(stats);
}

void SessionWorker::runChecked(const GenerationJob& job, const CompressionParams& params,
                               quint64 ticket) {
  require(hasModel(), recording_.isEmpty() ? "no model is loaded; choose a model file first"
                                           : "a recording is open, without its model; load a "
                                             "model to generate");
  params.validate();
  const Tokenizer& tokenizer = session_->tokenizer();
  const PromptSpec spec = promptSpecOf(job);
  const GenerationRequest request = session_->request(spec);
  const int P = static_cast<int>(request.promptIds.size());
  if (armed_) startRecording(spec, request, params);

  // As the CLI prints: the prompt's text (without BOS), then the continuation as it comes.
  TokenStreamDecoder promptText(tokenizer, /*atTextStart=*/true);
  QString text;
  QVector<int> charEnds{0};  // where each token's text ends, for colouring tokens
  for (int i = 1; i < P; ++i) {
    text += QString::fromStdString(promptText.push(request.promptIds[i]));
    charEnds.push_back(static_cast<int>(text.size()));
  }
  text += QString::fromStdString(promptText.finish());
  if (!text.isEmpty()) Q_EMIT textReady(text);
  Q_EMIT progress(0, request.steps - P + 1);  // in new tokens, as the panel asks for them

  Q_EMIT phase(tr("prefill"));
  const PrefillState& state = session_->prefill(
      request, [&] { return !stop_ && current(kWork, ticket); }, recorder_.get());

  PromptInfo info;
  const ModelConfig& c = session_->model().config();
  for (int id : request.promptIds) {
    info.ids.push_back(id);
    info.pieces.push_back(QString::fromStdString(tokenizer.piece(id)));
  }
  info.text = text;
  info.charEnds = charEnds;
  info.layers = c.nLayers;
  info.kvHeads = c.nKvHeads;
  info.queryHeads = c.nHeads;
  info.hasAttention = !state.attention.empty();
  info.prefillMs = state.prefillSeconds * 1000.0;
  info.model = modelName_;
  info.ticket = ticket;
  Q_EMIT promptReady(info);
  emitLayout(params, ticket);
  GenerationStats stats;
  if (!decodeVariant(params, ticket, /*stream=*/true, /*reference=*/false, &stats)) return;
  // The full cache's continuation, for comparison (it is the one above when nothing compresses),
  // before finished: the run is done when both are shown.
  if (compresses(params) && stats.stopReason != "cancelled" &&
      !decodeVariant(CompressionParams{}, ticket, false, true, nullptr)) {
    return;
  }
  // Before finished: when Run is enabled again the file is closed.
  if (recorder_) endRecording(stats.stopReason != "cancelled", ticket);
  Q_EMIT finished(stats);
}

void SessionWorker::emitLayout(const CompressionParams& params, quint64 ticket) {
  QElapsedTimer timer;
  timer.start();
  LayoutResult result;
  result.layout = computeMergingLayout(session_->state(), params);
  result.params = params;
  result.ms = timer.nsecsElapsed() / 1e6;
  result.ticket = ticket;
  Q_EMIT layoutReady(result);
}

void SessionWorker::computeLayout(const CompressionParams& params, quint64 ticket) {
  if (!current(kLayout, ticket) || !kept()) return;
  emitLayout(params, ticket);
}

void SessionWorker::regenerate(const CompressionParams& params, quint64 ticket) {
  if (!current(kWork, ticket)) return;
  try {
    require(kept() != nullptr, "no prompt has been run yet; press Run first");
    require(hasModel(), "a recording is open, without its model; load a model to generate");
    GenerationStats stats;
    if (decodeVariant(params, ticket, /*stream=*/false, /*reference=*/false, &stats)) {
      Q_EMIT finished(stats);
    }
  } catch (const std::exception& e) {
    if (current(kWork, ticket)) reportFailure(e, ticket);
  }
}

bool SessionWorker::decodeVariant(const CompressionParams& params, quint64 ticket, bool stream,
                                  bool reference, GenerationStats* statsOut) {
  const GenerationRequest& request = session_->keptRequest();
  const PrefillState& state = session_->state();
  const int P = state.tokens();
  const Tokenizer& tokenizer = session_->tokenizer();
  TokenStreamDecoder decoder(tokenizer, /*atTextStart=*/P <= 1);
  std::string text;
  int generated = 0;
  RunRecording* recording = reference ? nullptr : recorder_.get();  // one decode stream recorded
  DecodeHooks hooks;
  hooks.keepGoing = [&] { return !stop_ && current(kWork, ticket); };
  hooks.observer = recording;
  hooks.onToken = [&](int token) {
    if (recording) recording->appendToken(token, tokenizer.piece(token));
    ++generated;
    const std::string chunk = decoder.push(token);
    text += chunk;
    if (stream && !chunk.empty()) Q_EMIT textReady(QString::fromStdString(chunk));
    if (!reference) Q_EMIT progress(generated, request.steps - P + 1);
    return hooks.keepGoing();
  };
  if (!reference) Q_EMIT phase(tr("compressing and decoding"));
  DecodeResult r;
  try {
    r = session_->decode(params, hooks);
  } catch (const std::exception& e) {
    if (!current(kWork, ticket)) return false;
    throw;
  }
  if (!current(kWork, ticket)) return false;  // superseded: a newer setting is coming
  if (reference && r.stopReason == StopReason::kCancelled) return false;  // stopped: not shown
  if (recorder_) recordVariant(params, r);
  const std::string tail = decoder.finish();
  text += tail;
  if (stream && !tail.empty()) Q_EMIT textReady(QString::fromStdString(tail));

  VariantSummary s;
  s.params = params;
  s.text = QString::fromStdString(text);
  s.ids = QVector<int>(r.generatedIds.begin(), r.generatedIds.end());
  s.layerBytes = toQVector(r.compression.layerBytes);
  const CacheMemory promptMemory = state.cache().memory();
  s.layerFullBytes.fill(promptMemory.fullPerLayer, state.cache().nLayers());
  s.bytesPerStep = toQVector(r.bytesPerStep);
  s.fullBytesPerStep = toQVector(r.fullBytesPerStep);
  s.achievedRatio = r.compression.achievedRatio;
  s.compressMs = r.compression.compressSeconds * 1000.0;
  s.decodeMs = r.decodeSeconds * 1000.0;
  s.processBytes = residentBytes();
  s.window = r.memory.window;
  s.reference = reference;
  s.ticket = ticket;
  Q_EMIT variantReady(s);
  if (reference) return true;

  GenerationStats stats;
  stats.promptTokens = P;
  stats.generatedTokens = static_cast<int>(r.generatedIds.size());
  stats.steps = request.steps;
  stats.prefillMs = r.prefillSeconds * 1000.0;
  stats.decodeTokensPerSecond = r.decodeTokensPerSecond();
  stats.stopReason = QString::fromUtf8(toString(r.stopReason));
  stats.regenerated = !stream;
  stats.ticket = ticket;
  if (statsOut) *statsOut = stats;
  return true;
}

void SessionWorker::computeSimilarity(int source, int layer, int head, quint64 ticket) {
  if (!current(kSimilarity, ticket) || !kept()) return;
  try {
    if (const QString why = missingSource(source); !why.isEmpty())
      throw KvsError(why.toStdString());
    QElapsedTimer timer;
    timer.start();
    SimilarityResult result;
    result.matrix = similarityMatrix(*kept(), static_cast<SimilaritySource>(source), layer, head);
    result.ms = timer.nsecsElapsed() / 1e6;
    result.ticket = ticket;
    Q_EMIT similarityReady(result);
  } catch (const std::exception& e) {
    Q_EMIT failed(messageOf(e), 0);
  }
}

void SessionWorker::compare(const QVector<CompressionParams>& variants, quint64 ticket) {
  if (!current(kWork, ticket)) return;
  try {
    require(kept() != nullptr, "no prompt has been run yet; press Run first");
    require(hasModel(), "a recording is open, without its model; load a model to compare");
    Q_EMIT phase(tr("comparing"));
    const int total = static_cast<int>(variants.size());
    Q_EMIT progress(0, total);
    const auto outcomes = session_->compare(  // from the kept prefill: the prompt is not run again
        std::vector<CompressionParams>(variants.begin(), variants.end()), [&](int done, int n) {
          Q_EMIT progress(done, n);
          return !stop_ && current(kWork, ticket);
        });
    CompareResult result;
    const std::vector<int>& full = outcomes.front().generatedIds;
    for (const VariantOutcome& o : outcomes) {
      CompareRow row;
      row.params = o.params;
      const Tokenizer& tokenizer = session_->tokenizer();
      TokenStreamDecoder decoder(tokenizer, /*atTextStart=*/kept()->tokens() <= 1);
      // The metrics run every step (stopAtBosEos off, so the variants line up); the text shown
      // ends at end-of-text, as Output's does.
      for (size_t i = 0; i < o.generatedIds.size(); ++i) {
        const int id = o.generatedIds[i];
        if (id == tokenizer.bosId() || id == tokenizer.eosId()) break;
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
    Q_EMIT compareReady(result);
    GenerationStats stats;
    stats.stopReason = QStringLiteral("compared");
    stats.generatedTokens = total;  // variants compared
    stats.regenerated = true;
    stats.ticket = ticket;
    Q_EMIT finished(stats);
  } catch (const std::exception& e) {
    if (current(kWork, ticket)) reportFailure(e, ticket);
  }
}

void SessionWorker::computeOverview(int source, int size, quint64 ticket) {
  const PrefillState* state = kept();
  if (!current(kOverview, ticket) || !state) return;
  try {
    if (const QString why = missingSource(source); !why.isEmpty())
      throw KvsError(why.toStdString());
    const auto src = static_cast<SimilaritySource>(source);
    OverviewData data;
    data.source = source;
    data.layers = state->cache().nLayers();
    data.heads = src == SimilaritySource::kAttention ? queryHeads_ : state->cache().nKvHeads();
    for (int l = 0; l < data.layers; ++l) {
      for (int h = 0; h < data.heads; ++h) {
        if (!current(kOverview, ticket)) return;  // a newer source was chosen
        SimilarityMatrix m = similarityThumbnail(*state, src, l, h, size);
        data.size = m.tokens;
        data.thumbnails.push_back(std::move(m.values));
      }
    }
    data.adjacentCos = state->adjacentCos;
    data.ticket = ticket;
    Q_EMIT overviewReady(data);
  } catch (const std::exception& e) {
    Q_EMIT failed(messageOf(e), 0);
  }
}

}  // namespace kvs::ui
