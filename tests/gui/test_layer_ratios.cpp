// The layer-ratio panel (the paper's second observation), offscreen on stories260K: the current
// prompt's curve follows eps, a batch over a prompts file runs on the worker, can be stopped, and
// gives the numbers `kvstudio-cli analyze --batch` gives; the ratio figure exports with its CSV.

#include <QDockWidget>
#include <QDoubleSpinBox>
#include <QFile>
#include <QImageReader>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QPushButton>
#include <QSettings>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>
#include <algorithm>
#include <cmath>
#include "qcustomplot_include.h"

#include "gui_test_util.h"
#include "layer_ratio_panel.h"
#include "main_window.h"
#include "parameters_panel.h"
#include "session_controller.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

namespace {

const QString kPrompts = QStringLiteral(KVS_SOURCE_DIR "/data/prompts/tinystories_prompts.txt");

LayerRatioPanel* ratioPanel(const MainWindow& w) {
  auto* panel = w.findChild<LayerRatioPanel*>();
  if (!panel) qFatal("no LayerRatioPanel");
  return panel;
}

// The first n prompts of the TinyStories file, each repeated `times`, with a comment and a
// blank line that the batch must skip as the CLI does.
QString writePrompts(const QTemporaryDir& dir, int n, int times = 1) {
  QFile in(kPrompts);
  if (!in.open(QIODevice::ReadOnly)) qFatal("cannot read the prompts file");
  QStringList prompts;
  for (const QByteArray& line : in.readAll().split('\n')) {
    if (!line.trimmed().isEmpty() && !line.startsWith('#')) prompts << QString::fromUtf8(line);
  }
  QString text = QStringLiteral("# test prompts\n\n");
  for (int t = 0; t < times; ++t) {
    for (int i = 0; i < n; ++i) text += prompts.value(i) + '\n';
  }
  const QString path = dir.filePath(QStringLiteral("prompts_%1x%2.txt").arg(n).arg(times));
  QFile out(path);
  if (!out.open(QIODevice::WriteOnly)) qFatal("cannot write the prompts file");
  out.write(text.toUtf8());
  return path;
}

bool batchEnded(const LayerRatioPanel& p) {
  return !p.batchRunning() && p.batch().state != LayerRatioResult::State::kRunning;
}

}  // namespace

class TestLayerRatios : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void panelIsInTheWindow();
  void currentCurveFollowsEps();
  void batchMatchesTheCli();
  void batchStops();
  void defaultPromptsFile();
  void ratioFigureExports();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestLayerRatios::initTestCase() {
  QVERIFY(dir_.isValid());
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio layer ratio test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestLayerRatios::panelIsInTheWindow() {
  MainWindow w(kModel);
  LayerRatioPanel* panel = ratioPanel(w);
  QVERIFY(w.findChild<QDockWidget*>("layerRatioDock"));
  QVERIFY(w.findChild<QAction*>("exportLayerRatios"));
  QCOMPARE(panel->promptsFile(), kPrompts);  // the default before anything is chosen
  QVERIFY(panel->currentRatios().empty());
  QCOMPARE(panel->plot()->graphCount(), 5);  // min, max (band), mean, current, setting
}

void TestLayerRatios::currentCurveFollowsEps() {
  MainWindow w(kModel);
  w.show();
  LayerRatioPanel* panel = ratioPanel(w);
  auto* eps = child<QDoubleSpinBox>(w, "eps");
  eps->setValue(0.9);
  QVERIFY(runPrompt(w, 120));
  QTRY_COMPARE_WITH_TIMEOUT(panel->currentRatios().size(), size_t(5), kTimeoutMs);
  const std::vector<double> at09 = panel->currentRatios();
  QCOMPARE(panel->currentGraph()->data()->size(), 5);
  // A lower eps merges at least as much in every layer; stories260K's keys are so similar that
  // it merges more in some layer (kvmerger-spec.md section 8).
  eps->setValue(0.5);
  QTRY_VERIFY_WITH_TIMEOUT(panel->currentRatios() != at09, kTimeoutMs);
  const std::vector<double> at05 = panel->currentRatios();
  for (size_t l = 0; l < at05.size(); ++l) {
    QVERIFY2(at05[l] >= at09[l], qPrintable(QString("layer %1").arg(l)));
    QVERIFY(at05[l] >= 0 && at05[l] < 1);
  }
  // The kept prefill and a batch of that one prompt (a fresh forward pass) agree.
  QTemporaryDir dir;
  const QString one = dir.filePath("one.txt");
  QFile f(one);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(kPrompt.toUtf8() + "\n");
  f.close();
  panel->startBatch(one);
  QTRY_VERIFY_WITH_TIMEOUT(batchEnded(*panel), kTimeoutMs);
  QCOMPARE(panel->batch().state, LayerRatioResult::State::kDone);
  for (size_t l = 0; l < at05.size(); ++l)
    QVERIFY(std::abs(panel->spread().mean[l] - at05[l]) < 1e-12);
}

void TestLayerRatios::batchMatchesTheCli() {
  MainWindow w(kModel);
  LayerRatioPanel* panel = ratioPanel(w);
  QVERIFY(QTest::qWaitFor([&] { return child<QPushButton>(w, "run")->isEnabled(); }, kTimeoutMs));
  kvs::CompressionParams p = ParametersPanel::defaults();
  p.eps = 0.93;
  p.recentRatio = 0.1;
  p.protectedRatio = 0.05;
  w.parameters()->setParams(p);
  Q_EMIT w.parameters()->paramsChanged(p);
  const QString prompts = writePrompts(dir_, 6);
  panel->startBatch(prompts);
  QTRY_VERIFY_WITH_TIMEOUT(batchEnded(*panel), kTimeoutMs);
  const LayerRatioResult& b = panel->batch();
  QCOMPARE(b.state, LayerRatioResult::State::kDone);
  QCOMPARE(b.done, 6);
  QCOMPARE(int(b.ratios.size()), 6);
  QCOMPARE(QSettings().value("layerRatio/promptsFile").toString(), prompts);

  QProcess cli;
  cli.start(QStringLiteral(KVS_CLI_PATH),
            {"analyze", "--batch", "--model", kModel, "--prompts-file", prompts, "--eps", "0.93",
             "--recent", "0.1", "--protected", "0.05"});
  QVERIFY(cli.waitForFinished(kTimeoutMs));
  QCOMPARE(cli.exitCode(), 0);
  const QList<QByteArray> rows = cli.readAllStandardOutput().trimmed().split('\n');
  QCOMPARE(rows.size(), 6);  // header + 5 layers
  QVERIFY(rows[0].startsWith("layer,mean,std,min,max,"));
  const kvs::LayerSpread& s = panel->spread();
  bool someMerging = false;
  for (int l = 0; l < 5; ++l) {
    const QList<QByteArray> c = rows[l + 1].split(',');
    QCOMPARE(c[0].toInt(), l);
    // The CLI prints 6 significant digits.
    QVERIFY2(std::abs(c[1].toDouble() - s.mean[l]) < 1e-5, rows[l + 1].constData());
    QVERIFY(std::abs(c[2].toDouble() - s.stddev[l]) < 1e-5);
    QVERIFY(std::abs(c[3].toDouble() - s.min[l]) < 1e-5);
    QVERIFY(std::abs(c[4].toDouble() - s.max[l]) < 1e-5);
    for (int i = 0; i < 6; ++i) QVERIFY(std::abs(c[5 + i].toDouble() - b.ratios[i][l]) < 1e-5);
    someMerging = someMerging || s.mean[l] > 0.01;
    // The plotted band and error bars are these numbers.
    QCOMPARE(panel->meanGraph()->data()->at(l)->value, s.mean[l]);
    QCOMPARE(panel->errorBars()->data()->at(l).errorPlus, s.stddev[l]);
  }
  QVERIFY(someMerging);  // a curve of zeros would match trivially
}

void TestLayerRatios::batchStops() {
  MainWindow w(kModel);
  w.show();  // a click reaches visible buttons only
  LayerRatioPanel* panel = ratioPanel(w);
  QVERIFY(QTest::qWaitFor([&] { return child<QPushButton>(w, "run")->isEnabled(); }, kTimeoutMs));
  const QString many = writePrompts(dir_, 32, 40);  // 1,280 prompts: minutes if not stopped
  panel->startBatch(many);
  QTRY_VERIFY_WITH_TIMEOUT(panel->batch().done >= 2, kTimeoutMs);
  QTest::mouseClick(child<QPushButton>(w, "batchStop"), Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(batchEnded(*panel), kTimeoutMs);
  const LayerRatioResult& b = panel->batch();
  QCOMPARE(b.state, LayerRatioResult::State::kStopped);
  QCOMPARE(b.total, 1280);
  QVERIFY(b.done >= 2 && b.done < b.total);
  QCOMPARE(int(b.ratios.size()), b.done);  // what was done stays plotted
  QCOMPARE(panel->meanGraph()->data()->size(), 5);
  QVERIFY(!child<QPushButton>(w, "batchStop")->isEnabled());
  // A file that does not exist fails with a message naming it.
  panel->startBatch(dir_.filePath("missing.txt"));
  QTRY_VERIFY_WITH_TIMEOUT(batchEnded(*panel), kTimeoutMs);
  QCOMPARE(panel->batch().state, LayerRatioResult::State::kFailed);
  QVERIFY(panel->batch().error.contains("missing.txt"));
}

// The prompts file the button offers: all 32 prompts, under the paper's eps and protection at a
// 50% budget. Prints the time and the curve (README quotes them).
void TestLayerRatios::defaultPromptsFile() {
  MainWindow w(kModel);
  LayerRatioPanel* panel = ratioPanel(w);
  QVERIFY(QTest::qWaitFor([&] { return child<QPushButton>(w, "run")->isEnabled(); }, kTimeoutMs));
  const kvs::CompressionParams p = ParametersPanel::defaults();
  w.parameters()->setParams(p);
  panel->startBatch(kPrompts);  // the default (an earlier test chose another file)
  QTRY_VERIFY_WITH_TIMEOUT(batchEnded(*panel), kTimeoutMs);
  const LayerRatioResult& b = panel->batch();
  QVERIFY2(b.state == LayerRatioResult::State::kDone, qPrintable(b.error));
  QCOMPARE(b.done, 32);
  QString curve;
  for (size_t l = 0; l < panel->spread().mean.size(); ++l) {
    curve += QString(" %1+-%2")
                 .arg(panel->spread().mean[l], 0, 'f', 3)
                 .arg(panel->spread().stddev[l], 0, 'f', 3);
  }
  const auto [fewest, most] = std::minmax_element(b.tokens.begin(), b.tokens.end());
  qInfo(
      "32 prompts (%d-%d tokens) in %.2f s (eps %.2f, recent %.2f, protected %.2f), mean+-std "
      "per layer:%s",
      *fewest, *most, b.seconds, b.eps, b.recent, b.protectedRatio, qPrintable(curve));
}

void TestLayerRatios::ratioFigureExports() {
  MainWindow w(kModel);
  w.show();
  LayerRatioPanel* panel = ratioPanel(w);
  QVERIFY(runPrompt(w, 120));
  QTRY_COMPARE_WITH_TIMEOUT(panel->currentRatios().size(), size_t(5), kTimeoutMs);
  panel->startBatch(writePrompts(dir_, 4));
  QTRY_VERIFY_WITH_TIMEOUT(batchEnded(*panel), kTimeoutMs);
  QTemporaryDir dir;
  for (const QString& name : {"ratio.png", "ratio.pdf", "ratio.svg"}) {
    ExportRequest r;
    r.path = dir.filePath(name);
    r.format = formatForPath(r.path);
    r.width = 800;
    r.height = 500;
    r.dpi = 96;
    QCOMPARE(w.exportView("layer-ratio", r), QString());
    QFile figure(r.path);
    QVERIFY(figure.open(QIODevice::ReadOnly));
    const QByteArray bytes = figure.readAll();
    if (name.endsWith("png")) QCOMPARE(QImageReader(r.path).size(), QSize(800, 500));
    if (name.endsWith("pdf")) QVERIFY(bytes.startsWith("%PDF-"));
    if (name.endsWith("svg")) QVERIFY(QSvgRenderer(bytes).isValid());
  }
  QFile csv(dir.filePath("ratio.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  const QList<QByteArray> rows = csv.readAll().trimmed().split('\n');
  QCOMPARE(rows.size(), 6);
  QCOMPARE(rows[0], QByteArray("layer,current,setting,batch_mean,batch_std,batch_min,batch_max,"
                               "prompt_1,prompt_2,prompt_3,prompt_4"));
  for (int l = 0; l < 5; ++l) {
    const QList<QByteArray> c = rows[l + 1].split(',');
    QCOMPARE(c.size(), 11);
    QVERIFY(std::abs(c[1].toDouble() - panel->currentRatios()[l]) < 1e-5);
    QVERIFY(std::abs(c[3].toDouble() - panel->spread().mean[l]) < 1e-5);
  }
  QFile json(dir.filePath("ratio.json"));
  QVERIFY(json.open(QIODevice::ReadOnly));
  const QJsonObject meta = QJsonDocument::fromJson(json.readAll()).object();
  QCOMPARE(meta["view"]["panel"].toString(), QStringLiteral("layer-ratio"));
  QCOMPARE(meta["view"]["batch"]["prompts"].toInt(), 4);
  QCOMPARE(meta["view"]["eps"].toDouble(), w.parameters()->params().eps);
  QCOMPARE(meta["model"].toString(), QStringLiteral("stories260K.bin"));
}

QTEST_MAIN(TestLayerRatios)
#include "test_layer_ratios.moc"
