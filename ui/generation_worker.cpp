#include "generation_worker.h"

#include <QFile>
#include <QFileInfo>
#include <exception>
#include <string>
#include <vector>

#include "cache/kv_cache.h"
#include "model/llama_model.h"
#include "session/generator.h"
#include "tokenizer/token_stream_decoder.h"
#include "tokenizer/tokenizer_locator.h"
#include "util/error.h"

namespace kvs::ui {
namespace {

// Three significant digits: "260K", "15.2M", "6.74B".
QString formatCount(int64_t n) {
  const char* units[] = {"", "K", "M", "B"};
  double value = static_cast<double>(n);
  int unit = 0;
  // Round first, so 999,999 reads "1M" rather than "1e+03K".
  while (unit < 3 && QString::number(value, 'g', 3).toDouble() >= 1000) {
    value /= 1000;
    ++unit;
  }
  return QString::number(value, 'g', 3) + units[unit];
}

// Short enough to share the status bar with the run's statistics.
QString describe(const QString& path, const ModelConfig& c, const Tokenizer& tokenizer) {
  return QStringLiteral("%1: %2 params, %3 layers, context %4, %5")
      .arg(QFileInfo(path).fileName(), formatCount(c.parameterCount()))
      .arg(c.nLayers)
      .arg(c.seqLen)
      .arg(QFileInfo(QString::fromStdString(tokenizer.path())).fileName());
}

// KvsError messages are written for users; anything else is a bug or a LibTorch failure.
QString messageOf(const std::exception& e) {
  if (dynamic_cast<const KvsError*>(&e)) return QString::fromStdString(e.what());
  return QStringLiteral("internal error: ") + QString::fromStdString(e.what());
}

}  // namespace

GenerationWorker::GenerationWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<GenerationJob>();
  qRegisterMetaType<GenerationStats>();
}

GenerationWorker::~GenerationWorker() = default;

void GenerationWorker::loadModel(const QString& path) {
  model_.reset();
  tokenizer_.reset();
  try {
    require(!path.trimmed().isEmpty(),
            "no model file given; choose a llama2.c .bin checkpoint with Browse");
    const std::string file = QFile::encodeName(path).toStdString();
    auto model = kvs::loadModel(file);
    auto tokenizer =
        std::make_unique<Tokenizer>(locateTokenizer(file, "", model->config().vocabSize));
    const QString description = describe(path, model->config(), *tokenizer);
    const int context = model->config().seqLen;
    model_ = std::move(model);
    tokenizer_ = std::move(tokenizer);
    emit modelLoaded(description, context);
  } catch (const std::exception& e) {
    emit failed(messageOf(e));
  }
}

void GenerationWorker::generate(const GenerationJob& job) {
  try {
    runGeneration(job);
  } catch (const std::exception& e) {
    emit failed(messageOf(e));
  }
}

void GenerationWorker::runGeneration(const GenerationJob& job) {
  require(model_ && tokenizer_, "no model is loaded; choose a model file first");
  const Tokenizer& tokenizer = *tokenizer_;
  const int context = model_->config().seqLen;

  GenerationRequest request;
  const std::string prompt = job.prompt.toStdString();
  if (prompt.find_first_not_of(" \t\r\n") == std::string::npos) {
    request.promptIds = {tokenizer.bosId()};
  } else {
    request.promptIds = tokenizer.encode(prompt, /*addBos=*/true);
  }
  const int P = static_cast<int>(request.promptIds.size());
  // The core's own checks speak of CLI flags; say it in the GUI's terms first.
  require(P <= context, "the prompt is " + std::to_string(P) +
                            " tokens but the model's context is " + std::to_string(context) +
                            " positions; shorten the prompt");
  require(job.steps >= P, "the prompt is " + std::to_string(P) + " tokens but Steps is " +
                              std::to_string(job.steps) +
                              " (Steps counts the prompt's positions too); set Steps to " +
                              std::to_string(P) + " or more, up to " + std::to_string(context));
  request.steps = job.steps;
  request.sampling.temperature = static_cast<float>(job.temperature);
  request.sampling.topP = static_cast<float>(job.topP);
  request.sampling.seed = job.seed;
  for (int id : {tokenizer.bosId(), tokenizer.eosId()}) {
    if (id >= 0) request.stopIds.push_back(id);
  }
  validateRequest(*model_, request);

  // As the CLI prints: the prompt's text (without BOS), then the continuation as it comes.
  TokenStreamDecoder promptText(tokenizer, /*atTextStart=*/true);
  std::string text;
  for (int i = 1; i < P; ++i) text += promptText.push(request.promptIds[i]);
  text += promptText.finish();
  if (!text.empty()) emit textReady(QString::fromStdString(text));
  emit progress(0, request.steps);

  TokenStreamDecoder continuation(tokenizer, /*atTextStart=*/P <= 1);
  int generated = 0;
  const TokenCallback onToken = [&](int token) {
    ++generated;
    const std::string chunk = continuation.push(token);
    if (!chunk.empty()) emit textReady(QString::fromStdString(chunk));
    emit progress(P + generated - 1, request.steps);
    return !stop_.load();
  };
  KvCache cache = model_->makeCache();
  const GenerationResult result = kvs::generate(*model_, cache, request, onToken);
  const std::string tail = continuation.finish();
  if (!tail.empty()) emit textReady(QString::fromStdString(tail));

  GenerationStats stats;
  stats.promptTokens = P;
  stats.generatedTokens = static_cast<int>(result.generatedIds.size());
  stats.steps = request.steps;
  stats.prefillMs = result.prefillSeconds * 1000.0;
  stats.decodeTokensPerSecond = result.decodeTokensPerSecond();
  stats.stopReason = QString::fromUtf8(toString(result.stopReason));
  emit finished(stats);
}

}  // namespace kvs::ui
