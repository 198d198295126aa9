// SessionWorker's recording: writing a run to HDF5 as `kvstudio-cli generate --record` does, and
// opening a recording to explore it without the model. All HDF5 work happens on this thread.

// Core headers first: some have members named `slots`, a Qt macro.
#include "analysis/similarity_view.h"
#include "compress/compression_method.h"
#include "io/hdf5_recorder.h"
#include "io/recording_check.h"
#include "io/recording_reader.h"
#include "session/prefill_from_recording.h"
#include "session/session.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "process_memory.h"
#include "run_recording.h"
#include "session_worker.h"

namespace kvs::ui {
namespace {

// Each token's text as the live session shows it: with the recording's tokenizer when it is still
// there, else from the recorded pieces ("▁" is a space, "<0x0A>" a byte, control tokens nothing).
QStringList tokenTexts(const std::vector<int>& ids, const std::vector<std::string>& pieces,
                       const Tokenizer* tokenizer, bool atTextStart) {
  QStringList out;
  if (tokenizer) {
    TokenStreamDecoder decoder(*tokenizer, atTextStart);
    for (int id : ids) out.push_back(QString::fromStdString(decoder.push(id)));
    if (!out.isEmpty()) out.back() += QString::fromStdString(decoder.finish());
    return out;
  }
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& p = pieces[i];
    QString text;
    if (p.size() == 6 && p.rfind("<0x", 0) == 0 && p.back() == '>') {
      text = QString::fromLatin1(QByteArray(1, char(std::stoi(p.substr(3, 2), nullptr, 16))));
    } else if (p != "<s>" && p != "</s>" && p != "<unk>") {
      text = QString::fromStdString(p).replace(QChar(0x2581), QChar(' '));
    }
    if (i == 0 && atTextStart && text.startsWith(' ')) text.remove(0, 1);
    out.push_back(text);
  }
  return out;
}

QString describeSources(const RecordedPrefill& r) {
  QStringList s{QStringLiteral("keys")};
  if (r.hasKeysPreRope) s << QStringLiteral("keys before RoPE");
  if (r.hasValues) s << QStringLiteral("values");
  if (r.hasAttention) s << QStringLiteral("attention");
  return s.join(", ");
}

CompressionParams recordedParams(const VariantRecord& v) {
  // As recorded (paramsFromJson checks every key and value); a recording of another version with
  // a key or a method this one does not know still opens, with what could be read.
  const auto j = nlohmann::json::parse(v.paramsJson, nullptr, /*allow_exceptions=*/false);
  try {
    if (j.is_object()) return paramsFromJson(j);
  } catch (const std::exception&) {
  }
  CompressionParams p;
  try {
    p.method = methodNamed(v.method).name();
  } catch (const std::exception&) {
  }
  return p;
}

}  // namespace

void SessionWorker::dropArmedRecording(quint64 ticket, const QString& why) {
  if (!armed_) return;
  RecordingReport report;  // the window stops saying "Recording to ..."
  report.path = QString::fromStdString(armed_->path);
  report.error = tr("not recorded: %1").arg(why);
  report.ticket = ticket;
  armed_.reset();
  Q_EMIT recordingDone(report);
}

void SessionWorker::startRecording(const PromptSpec& spec, const GenerationRequest& request,
                                   const CompressionParams& params) {
  const RecordingOptions options = *armed_;
  armed_.reset();  // one run per arming
  try {
    // The same run as the CLI's generate; the settings say it was the GUI's.
    nlohmann::json settings = session_->generateSettings(request, spec, params);
    settings["reference"] = toJson(CompressionParams{});
    settings["app"] = "kvstudio";
    // Hashed once per model (and cached on disk per file); Stop ends it.
    if (!session_->checkpointHashed()) Q_EMIT phase(tr("hashing the checkpoint for the recording"));
    recorder_ = std::make_unique<RunRecording>(
        options,
        session_->describeRun(spec.text, request, "generate", settings, [this] { return !stop_; }));
  } catch (const std::exception& e) {
    // As the CLI: a problem with the file never costs the user the generation.
    RecordingReport report;
    report.path = QString::fromStdString(options.path);
    report.error = isCancelled(e) ? tr("not recorded: stopped while hashing the checkpoint")
                                  : QString::fromStdString(e.what());
    Q_EMIT recordingDone(report);
  }
}

void SessionWorker::recordVariant(const CompressionParams& params, const DecodeResult& r) {
  recorder_->addVariant(params, r.generatedIds, r.cells, variantFigures(r));
}

void SessionWorker::endRecording(bool finish, quint64 ticket) {
  RecordingReport report = recorder_->end(finish);
  recorder_.reset();
  if (!finish && report.error.isEmpty()) {
    report.error =
        tr("the run was stopped; the file holds what was written and is marked "
           "incomplete");
  }
  report.ticket = ticket;
  Q_EMIT recordingDone(report);
}

void SessionWorker::openRecording(const QString& path, const CompressionParams& params,
                                  quint64 ticket) {
  if (!current(kWork, ticket)) return;
  try {
    openRecordingChecked(path, params, ticket);
  } catch (const std::exception& e) {
    if (!current(kWork, ticket)) return;
    if (isCancelled(e)) {  // stopped while opening: the previous session stays
      Q_EMIT failed(tr("opening the recording was stopped"), ticket);
      return;
    }
    const bool user = dynamic_cast<const KvsError*>(&e) != nullptr;
    Q_EMIT failed((user ? QString() : tr("internal error: ")) + QString::fromStdString(e.what()),
                  ticket);
  }
}

void SessionWorker::openRecordingChecked(const QString& path, const CompressionParams& params,
                                         quint64 ticket) {
  QElapsedTimer timer;
  timer.start();
  Q_EMIT phase(tr("opening recording"));
  const std::string file = QFile::encodeName(path).toStdString();
  // Read and validated in a child process first, so that a corrupt file that crashes libhdf5
  // becomes a message instead of taking the app down (io/recording_check.h).
  checkRecording(file, 0, [&] { return !stop_ && current(kWork, ticket); });
  const RecordingReader reader(file);
  const RecordingInfo& info = reader.info();
  auto recorded = std::make_unique<RecordedPrefill>(
      prefillFromRecording(reader, [&] { return !stop_ && current(kWork, ticket); }));
  std::unique_ptr<Tokenizer> tokenizer;
  if (QFileInfo::exists(QString::fromStdString(info.tokenizerPath))) {
    try {
      tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(info.tokenizerPath));
    } catch (const KvsError&) {  // moved or replaced: the recorded pieces will do
    }
  }

  // Everything is read and parsed before the session changes, so a damaged file leaves the
  // worker as it was (MainWindow restores its own state on failure too).
  const int P = recorded->state.tokens();
  const QString modelName = QFileInfo(QString::fromStdString(info.checkpointPath)).fileName();
  // The reader guarantees pieces <= ids; a piece missing is shown as "?".
  auto pieceAt = [&](size_t i) {
    return i < info.tokenPieces.size() ? info.tokenPieces[i] : std::string("?");
  };
  PromptInfo prompt;
  std::vector<int> ids(info.tokenIds.begin(), info.tokenIds.begin() + P);
  std::vector<std::string> pieces;
  for (int i = 0; i < P; ++i) pieces.push_back(pieceAt(i));
  const QStringList texts = tokenTexts({ids.begin() + 1, ids.end()},
                                       {pieces.begin() + 1, pieces.end()}, tokenizer.get(), true);
  prompt.charEnds = {0};
  for (const QString& t : texts) {
    prompt.text += t;
    prompt.charEnds.push_back(static_cast<int>(prompt.text.size()));
  }
  for (int i = 0; i < P; ++i) {
    prompt.ids.push_back(ids[i]);
    prompt.pieces.push_back(QString::fromStdString(pieces[i]));
  }
  prompt.layers = recorded->config.nLayers;
  prompt.kvHeads = recorded->config.nKvHeads;
  prompt.queryHeads = recorded->config.nHeads;
  prompt.hasAttention = !recorded->state.attention.empty();  // kept: within the memory limit
  prompt.model = modelName;
  prompt.recording = QFileInfo(path).absoluteFilePath();
  prompt.ticket = ticket;

  // The recorded continuations: the run's variant, and the full cache's for comparison.
  const auto& names = info.variantNames;
  const auto main =
      std::find_if(names.begin(), names.end(), [](const std::string& n) { return n != "full"; });
  std::vector<std::string> shown;
  if (main != names.end()) shown.push_back(*main);
  if (std::find(names.begin(), names.end(), "full") != names.end()) shown.push_back("full");
  std::vector<VariantSummary> variants;
  for (size_t i = 0; i < shown.size(); ++i) {
    const VariantRecord v = reader.variant(shown[i]);
    VariantSummary s;
    s.params = recordedParams(v);
    // The file's pieces are those of the recorded decode stream; without the tokenizer another
    // variant's tokens are shown where they agree with it.
    std::vector<std::string> vp;
    for (int id : v.generatedIds) {
      const size_t at = static_cast<size_t>(P) + vp.size();
      const bool known = at < info.tokenIds.size() && info.tokenIds[at] == id;
      vp.push_back(known ? pieceAt(at) : std::string("?"));
    }
    s.text = tokenTexts(v.generatedIds, vp, tokenizer.get(), P <= 1).join(QString());
    s.ids = QVector<int>(v.generatedIds.begin(), v.generatedIds.end());
    const auto f = nlohmann::json::parse(v.figuresJson, nullptr, false);
    if (f.is_object() && f.contains("achieved_ratio") && f["achieved_ratio"].is_number()) {
      s.achievedRatio = f["achieved_ratio"].get<double>();
    }
    // The Memory panel's totals right after compression, as recorded (no per-layer or per-step
    // bytes are in the file): without them it read "0 of 0 bytes".
    if (f.is_object() && f.contains("kv_bytes") && f["kv_bytes"].is_number() &&
        f.contains("kv_bytes_full") && f["kv_bytes_full"].is_number()) {
      s.bytesPerStep = {f["kv_bytes"].get<qint64>()};
      s.fullBytesPerStep = {f["kv_bytes_full"].get<qint64>()};
    }
    s.processBytes = residentBytes();
    s.reference = i > 0;
    s.ticket = ticket;
    variants.push_back(s);
  }

  // The recording replaces the session: no model, its prompt is the kept one.
  armed_.reset();
  session_ = std::make_unique<Session>(std::move(recorded->state));
  recording_ = path;
  recorded_ = {true, recorded->hasKeysPreRope, recorded->hasValues, recorded->hasAttention};
  queryHeads_ = recorded->config.nHeads;
  modelName_ = modelName;

  RecordingReport report;
  report.path = path;
  report.bytes = QFileInfo(path).size();
  report.tokens = info.tokens;
  report.complete = info.complete;
  report.description = tr("%1: %2, %3 prompt tokens, %4 recorded")
                           .arg(QFileInfo(path).fileName(), modelName_)
                           .arg(P)
                           .arg(describeSources(*recorded));
  if (!info.complete) report.error = tr("the recording is incomplete (it was stopped)");
  report.ms = timer.nsecsElapsed() / 1e6;
  report.ticket = ticket;
  Q_EMIT promptReady(prompt);
  for (const VariantSummary& s : variants) Q_EMIT variantReady(s);
  Q_EMIT recordingOpened(report);
  // After the session is the recording's: a setting whose layout fails is an ordinary error.
  emitLayout(params, ticket);
}

QString SessionWorker::missingSource(int source) const {
  if (recording_.isEmpty() || source < 0 || source >= static_cast<int>(recorded_.size()) ||
      recorded_[source]) {
    return {};
  }
  const char* flag[] = {"", "--record-keys-prerope", "--record-values", "--record-attention"};
  const char* what[] = {"keys", "keys before RoPE", "values", "attention"};
  return tr("%1 were not recorded in %2 (record with %3, or the matching option of File > Record "
            "to HDF5)")
      .arg(QString::fromLatin1(what[source]), QFileInfo(recording_).fileName(),
           QString::fromLatin1(flag[source]));
}

}  // namespace kvs::ui
