// GUI latencies, offscreen (not a test: it prints a table). On stories260K:
//   1. an eps or sigma change -> updated merging-set boundaries on the heatmap (prompt T = 512);
//   2. the same change -> the regenerated continuation (prompt ~256 tokens + 256 new), with the
//      controller's debounce and without it;
//   3. heatmap frame time at T = 4,096 while panning (synthetic matrix, zoomed to 1,024 tokens and
//      to the whole matrix).
// Usage: kvs_bench_gui [repetitions]

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QSignalSpy>
#include <QTest>
#include <algorithm>
#include <cstdio>
#include <random>
#include <vector>

#include "heatmap_panel.h"
#include "merging_sets_item.h"
#include "session_controller.h"
#include "session_worker.h"

using namespace kvs::ui;

namespace {

struct Stats {
  double median, p90, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 9 / 10)], v.back()};
}

void row(const char* what, const char* target, const std::vector<double>& ms) {
  const Stats s = stats(ms);
  std::printf("| %s | %.1f | %.1f | %.1f | %s |\n", what, s.median, s.p90, s.max, target);
}

// Prompt text of about `words` words from the prompt set.
QString promptText(int words) {
  QFile file(QStringLiteral(KVS_SOURCE_DIR "/data/prompts/tinystories_prompts.txt"));
  if (!file.open(QIODevice::ReadOnly)) qFatal("no prompt file");
  QStringList all;
  for (const QByteArray& line : file.readAll().split('\n')) {
    if (line.startsWith('#') || line.trimmed().isEmpty()) continue;
    all += QString::fromUtf8(line).split(' ', Qt::SkipEmptyParts);
  }
  return all.mid(0, words).join(' ');
}

// Loads the model (once) and runs the prompt to the end of the context (New tokens is capped
// there); returns its token count, 0 when it does not fit.
int prepare(SessionController& c, const QString& prompt) {
  if (c.worker()->thread() && !c.property("loaded").toBool()) {
    QSignalSpy loaded(&c, &SessionController::modelLoaded);
    c.loadModel(QStringLiteral(KVS_MODELS_DIR "/stories260K.bin"));
    if (!loaded.wait(60000)) qFatal("model did not load");
    c.setProperty("loaded", true);
  }
  QSignalSpy done(&c, &SessionController::finished);
  QSignalSpy failed(&c, &SessionController::failed);
  GenerationJob job;
  job.prompt = prompt;
  job.newTokens = 512;  // stories260K's context: every position after the prompt
  job.temperature = 0;
  c.run(job, kvs::CompressionParams{});
  while (done.isEmpty() && failed.isEmpty()) {
    QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
  }
  return failed.isEmpty() ? c.prompt().ids.size() : 0;
}

kvs::CompressionParams merger(double eps, double sigma) {
  kvs::CompressionParams p;
  p.method = "kvmerger";
  p.exactBudget = false;
  p.eps = eps;
  p.sigma = sigma;
  return p;
}

void benchBoundaries(int reps) {
  SessionController c;
  HeatmapPanel heatmap;
  QObject::connect(&c, &SessionController::promptReady, &heatmap, &HeatmapPanel::setPrompt);
  QObject::connect(&c, &SessionController::layoutReady, &heatmap, &HeatmapPanel::setLayout);
  QObject::connect(&c, &SessionController::similarityReady, &heatmap, &HeatmapPanel::setMatrix);
  QObject::connect(&heatmap, &HeatmapPanel::matrixRequested, &c,
                   &SessionController::requestSimilarity);
  heatmap.resize(1000, 800);
  heatmap.show();
  // The longest prompt the context allows (T = 512 generates one token).
  QString text = promptText(600);
  int T = 0;
  for (int words = 500; words > 0; words -= 5) {
    text = promptText(words);
    T = prepare(c, text);
    if (T > 0) break;
  }
  heatmap.select(2, 1);  // one head: its sets are drawn
  std::vector<double> layoutMs, workerMs, blocks;
  for (int i = 0; i < reps; ++i) {
    const double eps = 0.9 + 0.099 * (i % 10) / 10.0;  // stories260K: most adjacent cosines > 0.9
    QSignalSpy layouts(&c, &SessionController::layoutReady);
    QElapsedTimer timer;
    timer.start();
    c.setParams(merger(eps, 5.0 + i % 3));
    while (layouts.isEmpty()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    heatmap.plot()->replot(QCustomPlot::rpImmediateRefresh);  // the boundaries drawn
    layoutMs.push_back(timer.nsecsElapsed() / 1e6);
    workerMs.push_back(layouts.first().first().value<LayoutResult>().ms);
    blocks.push_back(heatmap.overlay()->blockCount());
    QSignalSpy settled(&c, &SessionController::finished);
    settled.wait(10000);  // let the regeneration of this change finish before the next
  }
  std::printf(
      "\nPrompt T = %d tokens (stories260K), layer 2 head 1: %.0f-%.0f merged sets drawn\n\n", T,
      *std::min_element(blocks.begin(), blocks.end()),
      *std::max_element(blocks.begin(), blocks.end()));
  std::printf("| measure | median ms | p90 ms | max ms | target |\n|---|---:|---:|---:|---|\n");
  row("eps/sigma change -> boundaries drawn (GUI thread)", "<= 50 ms", layoutMs);
  row("  of which: layout computed on the worker", "", workerMs);
}

void benchRegeneration(int reps) {
  SessionController c;
  const int T = prepare(c, promptText(120));
  std::printf("\nPrompt T = %d tokens, %d new tokens (stories260K, greedy)\n\n", T, 512 - T + 1);
  std::printf("| measure | median ms | p90 ms | max ms | target |\n|---|---:|---:|---:|---|\n");
  for (int debounce : {80, 0}) {
    c.setDebounceMs(debounce);
    std::vector<double> ms;
    for (int i = 0; i < reps; ++i) {
      QSignalSpy variants(&c, &SessionController::variantReady);
      QElapsedTimer timer;
      timer.start();
      c.setParams(merger(0.5 + 0.4 * (i % 10) / 10.0, 5.0));
      while (variants.isEmpty()) QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
      ms.push_back(timer.nsecsElapsed() / 1e6);
      QSignalSpy settled(&c, &SessionController::finished);
      if (c.busy()) settled.wait(10000);
    }
    const QByteArray what = QStringLiteral("change -> regenerated continuation (debounce %1 ms)")
                                .arg(debounce)
                                .toUtf8();
    row(what.constData(), "<= 300 ms", ms);
  }
}

void benchPanning(int frames) {
  const int T = 4096;
  HeatmapPanel panel;
  panel.resize(1100, 900);
  panel.show();
  PromptInfo info;
  info.layers = 1;
  info.kvHeads = 1;
  info.queryHeads = 1;
  for (int i = 0; i < T; ++i) {
    info.ids.push_back(i);
    info.pieces.push_back(QString::number(i));
  }
  panel.setPrompt(info);
  panel.select(0, 0);
  // A smooth random field with a bright diagonal, like a key-similarity matrix.
  SimilarityResult r;
  r.matrix.layer = 0;
  r.matrix.head = 0;
  r.matrix.tokens = T;
  r.matrix.values.resize(size_t(T) * T);
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0, 0.1f);
  for (int i = 0; i < T; ++i) {
    for (int j = 0; j < T; ++j) {
      r.matrix.values[size_t(i) * T + j] = std::exp(-std::abs(i - j) / 50.0f) + noise(rng);
    }
  }
  panel.setMatrix(r);
  // Sets of 1-6 tokens along the whole diagonal, as KVMerger draws them.
  LayoutResult layout;
  layout.layout.tokens = T;
  layout.params = merger(0.75, 5);
  kvs::HeadLayout head;
  for (int t = 0; t < T;) {
    const int n = 1 + int(rng() % 6);
    const int last = std::min(T - 1, t + n - 1);
    head.slots.push_back({t, last, t, last - t + 1, 0.0});
    t = last + 1;
  }
  head.isProtected.assign(T, 0);
  layout.layout.heads = {{head}};
  panel.setLayout(layout);

  std::printf("\nHeatmap at T = %d, %dx%d widget, %d merged sets drawn, %d frames each\n\n", T,
              panel.plot()->width(), panel.plot()->height(), panel.overlay()->blockCount(), frames);
  std::printf(
      "| view while panning | median ms | p90 ms | max ms | target |\n"
      "|---|---:|---:|---:|---|\n");
  for (int span : {T, 1024, 128}) {
    std::vector<double> ms;
    for (int f = 0; f < frames; ++f) {
      const double first = (span == T ? 0 : 500) + 8.0 * f;
      QElapsedTimer timer;
      timer.start();
      panel.plot()->xAxis->setRange(first - 0.5, first + span - 0.5);
      panel.plot()->yAxis->setRange(first - 0.5, first + span - 0.5);
      panel.plot()->replot(QCustomPlot::rpImmediateRefresh);
      ms.push_back(timer.nsecsElapsed() / 1e6);
    }
    const QByteArray what = QStringLiteral("%1 tokens in view (stride %2)")
                                .arg(span)
                                .arg(panel.displayStride())
                                .toUtf8();
    row(what.constData(), "<= 30 ms", ms);
  }
}

}  // namespace

int main(int argc, char** argv) {
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const int reps = argc > 1 ? std::max(3, atoi(argv[1])) : 20;
  benchBoundaries(reps);
  benchRegeneration(reps);
  benchPanning(std::max(reps, 50));
  return 0;
}
