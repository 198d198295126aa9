// The panels and the session, offscreen on stories260K: every panel builds; a parameter change
// recomputes the layout from the kept prefill and the heatmap draws the new merging sets; newest
// request wins; Stop cancels a regeneration; large matrices are downsampled for display and shown
// at full resolution when zoomed in.

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSemaphore>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>
#include <atomic>
#include "qcustomplot_include.h"

#include "compare_panel.h"
#include "compare_table_model.h"
#include "compress/compression_method.h"
#include "gui_test_util.h"
#include "heatmap_panel.h"
#include "main_window.h"
#include "matrix_pyramid.h"
#include "memory_panel.h"
#include "merging_sets_item.h"
#include "output_panel.h"
#include "overview_panel.h"
#include "parameters_panel.h"
#include "session_controller.h"
#include "session_worker.h"
#include "thumbnail_grid.h"
#include "token_table_model.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

class TestPanels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void parametersPanelRoundTrips();
  void parametersPanelRowsFollowTheRegistry();
  void defaultsAreTheCommandLines();
  void epsChangeRedrawsMergingSets();
  void newestParameterChangeWins();
  void stopCancelsRegeneration();
  void parameterChangeDuringPrefillWaitsForThePrompt();
  void largeMatricesAreDownsampledUntilZoomed();
  void pyramidLevelsAreBlockMeans();

 private:
  QTemporaryDir settingsDir_;
};

void TestPanels::initTestCase() {
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio panels test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestPanels::parametersPanelRoundTrips() {
  ParametersPanel panel;
  QSignalSpy changed(&panel, &ParametersPanel::paramsChanged);
  kvs::CompressionParams p = approximateBudget();
  QCOMPARE(panel.params().method, std::string("kvmerger"));
  p.method = "h2o";
  p.budget = 0.35;
  p.recentRatio = 0.1;
  p.layout = kvs::MergeLayout::kSharedPerLayer;
  p.sigmaMode = kvs::SigmaMode::kMeanDistance;
  panel.setParams(p);
  QCOMPARE(changed.count(), 0);  // setParams shows, it does not report
  const kvs::CompressionParams q = panel.params();
  QCOMPARE(q.method, p.method);
  QCOMPARE(q.budget, p.budget);
  QCOMPARE(q.recentRatio, p.recentRatio);
  QCOMPARE(q.protectedRatio, -1.0);
  QCOMPARE(q.layout, p.layout);
  QCOMPARE(q.sigmaMode, p.sigmaMode);
  QVERIFY(!child<QDoubleSpinBox>(panel, "eps")->isEnabled());  // H2O has no eps
  child<QComboBox>(panel, "method")->setCurrentText("kvmerger");
  QCOMPARE(changed.count(), 1);
  QVERIFY(child<QDoubleSpinBox>(panel, "eps")->isEnabled());
  child<QDoubleSpinBox>(panel, "eps")->setValue(0.5);
  QCOMPARE(changed.last().first().value<kvs::CompressionParams>().eps, 0.5);
}

void TestPanels::parametersPanelRowsFollowTheRegistry() {
  ParametersPanel panel;
  panel.show();
  QSignalSpy changed(&panel, &ParametersPanel::paramsChanged);
  // A row for every registered parameter; a method shows the rows it reads.
  QCOMPARE(child<QComboBox>(panel, "method")->count(), int(kvs::allMethods().size()));
  child<QComboBox>(panel, "method")->setCurrentText("snapkv");
  QVERIFY(child<QSpinBox>(panel, "snapkvWindow")->isVisible());
  QVERIFY(child<QComboBox>(panel, "snapkvPooling")->isVisible());
  QVERIFY(!child<QDoubleSpinBox>(panel, "eps")->isVisible());
  QVERIFY(!child<QSpinBox>(panel, "decodeChunk")->isVisible());  // prompt only
  child<QSpinBox>(panel, "snapkvWindow")->setValue(16);
  const auto p = changed.last().first().value<kvs::CompressionParams>();
  QCOMPARE(p.method, std::string("snapkv"));
  QCOMPARE(p.options.at("snapkv_window").get<int>(), 16);
  // A row that has no effect under the other settings is disabled, and says why.
  child<QComboBox>(panel, "method")->setCurrentText("kvmerger");
  child<QCheckBox>(panel, "exactBudget")->setChecked(true);
  auto* eps = child<QDoubleSpinBox>(panel, "eps");
  QVERIFY(eps->isVisible());
  QVERIFY(!eps->isEnabled());
  QVERIFY(eps->toolTip().contains("exact budget"));
  QVERIFY(!child<QSpinBox>(panel, "snapkvWindow")->isVisible());
}

// One place defines the defaults: the app starts from the core's, as the CLI does, so a budget
// keeps what it says (an exact budget; the app kept 15.1% of the slots at 0.3 before); only the
// method differs (KVMerger, whose sets the app draws; the CLI's default is the full cache).
void TestPanels::defaultsAreTheCommandLines() {
  kvs::CompressionParams cli;
  cli.method = "kvmerger";
  const kvs::CompressionParams app = ParametersPanel::defaults();
  for (const kvs::ParamSpec& spec : kvs::allParams()) {
    QCOMPARE(QString::fromStdString(spec.get(app).dump()),
             QString::fromStdString(spec.get(cli).dump()));
  }
  QVERIFY(app.exactBudget);
  ParametersPanel panel;  // a fresh panel shows them
  QVERIFY(child<QCheckBox>(panel, "exactBudget")->isChecked());
  QCOMPARE(panel.params().budget, cli.budget);
}

void TestPanels::epsChangeRedrawsMergingSets() {
  MainWindow w(kModel);
  w.show();
  kvs::CompressionParams p = approximateBudget();  // KVMerger, approximate budget
  p.eps = 0.98;                                    // merges little
  p.protectedRatio = 0.04;
  w.parameters()->setParams(p);
  QVERIFY(runPrompt(w, 140));
  HeatmapPanel* heatmap = w.heatmap();
  const int T = w.controller()->prompt().ids.size();
  QVERIFY(T > 40);
  // The full matrix is drawn at full resolution, T x T cells.
  QTRY_COMPARE_WITH_TIMEOUT(heatmap->colourMap()->data()->keySize(), T, kTimeoutMs);
  QCOMPARE(heatmap->colourMap()->data()->valueSize(), T);
  QCOMPARE(heatmap->displayStride(), 1);
  // Diagonal of a cosine matrix is 1.
  QVERIFY(qAbs(heatmap->colourMap()->data()->cell(5, 5) - 1.0) < 1e-4);

  heatmap->select(2, 1);
  const MergingSetsItem* overlay = heatmap->overlay();
  QTRY_VERIFY_WITH_TIMEOUT(!overlay->head().slots.empty(), kTimeoutMs);
  const int spansBefore = overlay->head().slots.size();
  const int blocksBefore = overlay->blockCount();
  QVERIFY(overlay->protectedCount() > 0);
  // Same as the layout the worker computed for that head.
  QCOMPARE(blocksBefore, w.controller()->layout().layout.mergedSlots(2, 1));

  QSignalSpy layouts(w.controller(), &SessionController::layoutReady);
  QSignalSpy variants(w.controller(), &SessionController::variantReady);
  child<QDoubleSpinBox>(w, "eps")->setValue(0.2);  // merges far more
  QTRY_VERIFY_WITH_TIMEOUT(layouts.count() >= 1, kTimeoutMs);
  QCOMPARE(layouts.last().first().value<LayoutResult>().params.eps, 0.2);
  QVERIFY2(overlay->head().slots.size() < size_t(spansBefore),
           qPrintable(QString("%1 -> %2").arg(spansBefore).arg(overlay->head().slots.size())));
  QVERIFY(overlay->blockCount() != blocksBefore);
  // ... and the continuation is decoded again from the kept prefill.
  QTRY_VERIFY_WITH_TIMEOUT(variants.count() >= 1, kTimeoutMs);
  QCOMPARE(variants.last().first().value<VariantSummary>().params.eps, 0.2);
  QVERIFY(child<QPlainTextEdit>(w, "output")->toPlainText().startsWith("Once upon a time"));
  // The full cache's continuation stays available for comparison.
  const QString reference = child<QPlainTextEdit>(w, "referenceOutput")->toPlainText();
  QVERIFY(reference.startsWith(kPrompt));
  QVERIFY(reference.size() > kPrompt.size());
  QCOMPARE(w.heatmap()->colourMap()->colorScale()->axis()->label(),
           QStringLiteral("cosine similarity"));

  // H2O evicts: the overlay marks evicted tokens and draws no merged sets.
  child<QComboBox>(w, "method")->setCurrentText("h2o");
  QTRY_VERIFY_WITH_TIMEOUT(overlay->evictedCount() > 0, kTimeoutMs);
  QCOMPARE(overlay->blockCount(), 0);
}

void TestPanels::newestParameterChangeWins() {
  MainWindow w(kModel);
  w.show();
  w.parameters()->setParams(approximateBudget());
  QVERIFY(runPrompt(w, 200));
  QSignalSpy variants(w.controller(), &SessionController::variantReady);
  QSignalSpy regenerations(w.worker(), &SessionWorker::finished);
  auto* eps = child<QDoubleSpinBox>(w, "eps");
  for (double e : {0.9, 0.8, 0.7, 0.6, 0.5}) eps->setValue(e);  // faster than the debounce
  QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->busy(), kTimeoutMs);
  QTest::qWait(200);
  QCOMPARE(regenerations.count(), 1);  // one continuation decoded, for the last value
  QCOMPARE(variants.count(), 1);
  QCOMPARE(variants.first().first().value<VariantSummary>().params.eps, 0.5);
  QCOMPARE(w.controller()->layout().params.eps, 0.5);
}

void TestPanels::stopCancelsRegeneration() {
  MainWindow w(kModel);
  w.show();
  w.parameters()->setParams(approximateBudget());
  QVERIFY(runPrompt(w, 100));
  // The regeneration pauses at its third token until Stop is pressed (it is faster than a click).
  QSemaphore stopPressed;
  std::atomic<int> tokens{0};
  const auto unpause = qScopeGuard([&] { stopPressed.release(); });
  connect(
      w.worker(), &SessionWorker::progress, w.worker(),
      [&](int, int) {
        if (++tokens == 3) stopPressed.tryAcquire(1, kTimeoutMs);
      },
      Qt::DirectConnection);
  child<QSpinBox>(w, "newTokens")->setValue(newTokensFor(500));  // used by the next run only
  QSignalSpy finished(w.worker(), &SessionWorker::finished);
  child<QDoubleSpinBox>(w, "sigma")->setValue(2.0);
  QTRY_VERIFY_WITH_TIMEOUT(tokens >= 3, kTimeoutMs);
  auto* stop = child<QPushButton>(w, "stop");
  QVERIFY(stop->isEnabled());
  QTest::mouseClick(stop, Qt::LeftButton);
  stopPressed.release();
  QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, kTimeoutMs);
  const auto stats = finished.first().first().value<GenerationStats>();
  QCOMPARE(stats.stopReason, QStringLiteral("cancelled"));
  QVERIFY(stats.regenerated);
  QCOMPARE(stats.generatedTokens, 3);
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
}

void TestPanels::parameterChangeDuringPrefillWaitsForThePrompt() {
  MainWindow w(kModel);
  w.show();
  w.parameters()->setParams(approximateBudget());
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  child<QPlainTextEdit>(w, "prompt")->setPlainText(kPrompt);
  QSignalSpy variants(w.controller(), &SessionController::variantReady);
  QSignalSpy failed(w.controller(), &SessionController::failed);
  QTest::mouseClick(run, Qt::LeftButton);
  // The prompt cannot be ready yet: its result waits in this thread's event queue.
  QVERIFY(!w.controller()->hasPrompt());
  child<QDoubleSpinBox>(w, "eps")->setValue(0.42);
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled() && !w.controller()->busy(), kTimeoutMs);
  QCOMPARE(failed.count(), 0);
  QVERIFY(!variants.isEmpty());
  QCOMPARE(variants.last().first().value<VariantSummary>().params.eps, 0.42);
  QCOMPARE(w.controller()->layout().params.eps, 0.42);
}

void TestPanels::largeMatricesAreDownsampledUntilZoomed() {
  HeatmapPanel panel;
  panel.resize(800, 700);
  panel.show();
  const int T = 2048;
  PromptInfo info;
  info.layers = 2;
  info.kvHeads = 2;
  info.queryHeads = 4;
  for (int i = 0; i < T; ++i) {
    info.ids.push_back(i % 500);
    info.pieces.push_back(QString("t%1").arg(i));
  }
  QSignalSpy requested(&panel, &HeatmapPanel::matrixRequested);
  panel.setPrompt(info);
  QCOMPARE(requested.count(), 1);
  SimilarityResult r;
  r.matrix.source = kvs::SimilaritySource(requested.first().at(0).toInt());
  r.matrix.layer = requested.first().at(1).toInt();
  r.matrix.head = requested.first().at(2).toInt();
  r.matrix.tokens = T;
  r.matrix.values.resize(size_t(T) * T);
  for (int i = 0; i < T; ++i) {
    for (int j = 0; j < T; ++j) r.matrix.values[size_t(i) * T + j] = float(i % 7 + j % 5);
  }
  panel.setMatrix(r);
  QCPColorMapData* data = panel.colourMap()->data();
  QCOMPARE(panel.displayStride(), 4);  // 2048 tokens in at most 512 cells
  QCOMPARE(data->keySize(), 512);
  panel.setView(100, 199);
  QCOMPARE(panel.displayStride(), 1);
  QCOMPARE(data->keySize(), 100);
  QCOMPARE(data->valueSize(), 100);
  QCOMPARE(data->cell(0, 0), double(100 % 7 + 100 % 5));  // cell (key 100, query 100)
  QVERIFY(!panel.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerText>());
  panel.setView(100, 119);  // few enough tokens for their pieces as labels
  auto text = panel.plot()->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
  QVERIFY(text);
  QCOMPARE(text->ticks().value(105), QStringLiteral("t105"));
  // The CSV holds the view at full resolution: a header and one row per query token.
  const QStringList rows = panel.csv().split('\n', Qt::SkipEmptyParts);
  QCOMPARE(rows.size(), 21);
  QCOMPARE(rows[1].split(',').size(), 21);
}

void TestPanels::pyramidLevelsAreBlockMeans() {
  std::vector<float> v(25);
  for (int i = 0; i < 25; ++i) v[i] = float(i);  // 5 x 5, row-major
  MatrixPyramid p;
  p.set(v, 5);
  QCOMPARE(p.levels(), 4);  // 5, 3, 2, 1 cells per side
  QCOMPARE(p.levelSize(1), 3);
  QCOMPARE(p.at(1, 0, 0), (0.0f + 1 + 5 + 6) / 4);
  QCOMPARE(p.at(1, 0, 2), (4.0f + 9) / 2);  // the last column's block is 2 x 1
  QCOMPARE(p.at(1, 2, 2), 24.0f);
  QCOMPARE(p.min(), 0.0f);
  QCOMPARE(p.max(), 24.0f);
  QCOMPARE(p.levelFor(5, 512), 0);
  QCOMPARE(p.levelFor(4096, 512), 3);  // capped at the coarsest level
}

QTEST_MAIN(TestPanels)
#include "test_panels.moc"
