#include "model/cli_runner.h"

// What a researcher expects of the window (issue 15): a failed load keeps the model, Compare
// before a Run, an opened recording's memory, the plots before a Run, the token colours' legend.

#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "compare_panel.h"
#include "compare_table_model.h"
#include "gui_test_util.h"
#include "layer_ratio_panel.h"
#include "main_window.h"
#include "session_controller.h"
#include "session_worker.h"
#include "token_fates.h"
#include "token_table_model.h"

using kvs::ui::MainWindow;
using kvs::ui::SessionWorker;
using kvs::ui::test::child;
using kvs::ui::test::kModel;
using kvs::ui::test::kTimeoutMs;

class TestResearcherExpects : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void failedLoadKeepsTheModel();
  void compareBeforeRunSaysSo();
  void compareTextsStopAtEndOfText();
  void openedRecordingShowsItsBytes();
  void layerRatioExportNamesTheRecording();
  void plotsSayWhatToDoBeforeARun();
  void outputHasATokenColourLegend();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestResearcherExpects::initTestCase() {
  const QString problem =
      kvs::ui::test::isolateSettings(settingsDir_, QStringLiteral("KV Studio researcher test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// /etc/passwd typed into the Model field: an error, and the loaded model stays (label, Run).
void TestResearcherExpects::failedLoadKeepsTheModel() {
  MainWindow w(kModel);
  w.show();
  QVERIFY(kvs::ui::test::runPrompt(w, 120));
  auto* label = child<QLabel>(w, "modelLabel");
  const QString loaded = label->text();
  QVERIFY2(loaded.startsWith("stories260K.bin"), qPrintable(loaded));

  QSignalSpy failed(w.worker(), &SessionWorker::failed);
  auto* path = child<QLineEdit>(w, "modelPath");
  path->setText(QStringLiteral("/etc/passwd"));
  QTest::keyClick(path, Qt::Key_Return);
  QTRY_VERIFY_WITH_TIMEOUT(failed.count() == 1, kTimeoutMs);
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  QCOMPARE(label->text(), loaded);
  const auto* bar = child<QProgressBar>(w, "progress");
  QVERIFY2(
      bar->value() < bar->maximum() && bar->text().contains("failed"),
      qPrintable(
          QStringLiteral("%1 of %2: %3").arg(bar->value()).arg(bar->maximum()).arg(bar->text())));

  // Run still works, on the model loaded before.
  QSignalSpy finished(w.worker(), &SessionWorker::finished);
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1 && run->isEnabled(), kTimeoutMs);
  QCOMPARE(failed.count(), 1);
  QVERIFY(child<QPlainTextEdit>(w, "output")->toPlainText().startsWith("Once upon a time"));
}

// Compare before any Run used to do nothing at all.
void TestResearcherExpects::compareBeforeRunSaysSo() {
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  QTest::mouseClick(child<QPushButton>(w, "compareAdd"), Qt::LeftButton);
  QTest::mouseClick(child<QPushButton>(w, "compareRun"), Qt::LeftButton);
  const QString text = child<QTextEdit>(w, "compareText")->toPlainText();
  QVERIFY2(text.contains("Run the prompt first"), qPrintable(text));
  QVERIFY(run->isEnabled());
}

// The full cache's row in Compare reads as Output's full cache tab: both end at end-of-text.
void TestResearcherExpects::compareTextsStopAtEndOfText() {
  MainWindow w(kModel);
  w.show();
  QVERIFY(kvs::ui::test::runPrompt(w, 512));  // the story ends before 512
  QTest::mouseClick(child<QPushButton>(w, "compareAdd"), Qt::LeftButton);
  QSignalSpy finished(w.worker(), &SessionWorker::finished);
  QTest::mouseClick(child<QPushButton>(w, "compareRun"), Qt::LeftButton);
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1 && run->isEnabled(), kTimeoutMs);
  const auto* panel = w.findChild<kvs::ui::ComparePanel*>();
  QVERIFY(panel);
  const auto& rows = panel->model()->result().rows;
  QVERIFY(rows.size() >= 2);
  const QString full = rows[0].chunks.join(QString());
  QVERIFY(!full.isEmpty());
  const QString output = child<QPlainTextEdit>(w, "referenceOutput")->toPlainText();
  QVERIFY2(output.endsWith(full), qPrintable(full.right(200) + "|||" + output.right(200)));
  QCOMPARE(rows[0].differs.size(), rows[0].chunks.size());
}

// The recorded variant's bytes right after compression, from its figures (was "0 of 0 bytes").
void TestResearcherExpects::openedRecordingShowsItsBytes() {
  QVERIFY(dir_.isValid());
  const QString path = dir_.filePath("run.h5");
  const auto made = kvs::test::runCliCommand(
      "generate --model " KVS_MODELS_DIR "/stories260K.bin --prompt '" +
      kvs::ui::test::kPrompt.toStdString() +
      "' --steps 100 --temperature 0 --method kvmerger --budget 0.5 --record " +
      path.toStdString());
  QVERIFY2(made.exitCode == 0, made.err.c_str());
  MainWindow w(kModel);
  w.show();
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
  QSignalSpy opened(w.controller(), &kvs::ui::SessionController::recordingOpened);
  w.openRecording(path);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
  const QString memory = child<QLabel>(w, "processMemory")->text();
  QVERIFY2(!memory.contains(" 0 of 0 bytes"), qPrintable(memory));
  const QRegularExpression bytes(QStringLiteral("KV cache ([\\d,. ]+) of ([\\d,. ]+) bytes"));
  const auto m = bytes.match(memory);
  QVERIFY2(m.hasMatch(), qPrintable(memory));
  const auto number = [&m](int i) {
    return m.captured(i).remove(QRegularExpression(QStringLiteral("\\D"))).toLongLong();
  };
  QVERIFY2(number(1) > 0 && number(2) > number(1), qPrintable(memory));
}

// A layer-ratio figure exported from an opened recording names the recording, its model and the
// prompt it shows (the sidecar had the Prompt field's text, whatever it was); loading a model
// lets the recording's curve go with it.
void TestResearcherExpects::layerRatioExportNamesTheRecording() {
  const QString path = dir_.filePath("ratios.h5");
  const auto made =
      kvs::test::runCliCommand("generate --model " KVS_MODELS_DIR "/stories260K.bin --prompt '" +
                               kvs::ui::test::kPrompt.toStdString() +
                               "' --steps 90 --temperature 0 --record " + path.toStdString());
  QVERIFY2(made.exitCode == 0, made.err.c_str());
  MainWindow w(kModel);
  w.show();
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
  child<QPlainTextEdit>(w, "prompt")->setPlainText(QStringLiteral("The little dog"));
  QSignalSpy opened(w.controller(), &kvs::ui::SessionController::recordingOpened);
  w.openRecording(path);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
  auto* panel = w.findChild<kvs::ui::LayerRatioPanel*>();
  QTRY_COMPARE_WITH_TIMEOUT(panel->currentRatios().size(), size_t(5), kTimeoutMs);

  const auto exported = [&](const QString& name) {
    kvs::ui::ExportRequest r;
    r.path = dir_.filePath(name + ".png");
    r.format = kvs::ui::formatForPath(r.path);
    r.width = 400;
    r.height = 300;
    r.dpi = 96;
    const QString error = w.exportView(QStringLiteral("layer-ratio"), r);
    if (!error.isEmpty()) qWarning("%s", qPrintable(error));
    QFile json(dir_.filePath(name + ".json"));
    json.open(QIODevice::ReadOnly);
    return QJsonDocument::fromJson(json.readAll()).object();
  };
  QJsonObject meta = exported(QStringLiteral("opened"));
  QCOMPARE(meta["model"].toString(), QStringLiteral("stories260K.bin"));
  QCOMPARE(meta["prompt"].toString(), kvs::ui::test::kPrompt);
  QCOMPARE(meta["recording"].toString(), path);
  QCOMPARE(meta["prompt_token_ids"].toArray().size(), kvs::ui::test::promptTokens());

  auto* modelPath = child<QLineEdit>(w, "modelPath");
  modelPath->setText(kModel);
  QTest::keyClick(modelPath, Qt::Key_Return);
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
  QVERIFY(panel->currentRatios().empty());  // the recording's curve went with it
  QVERIFY(kvs::ui::test::runPrompt(w, 120));
  QTRY_COMPARE_WITH_TIMEOUT(panel->currentRatios().size(), size_t(5), kTimeoutMs);
  meta = exported(QStringLiteral("reloaded"));
  QCOMPARE(meta["model"].toString(), QStringLiteral("stories260K.bin"));
  QCOMPARE(meta["prompt"].toString(), kvs::ui::test::kPrompt);
  QVERIFY(!meta.contains("recording"));
}

// Before the first Run each plot says what to do (not 0-5 axes, a 0-6 colour bar, an eps line);
// a new prompt's merging sets are not drawn over a blank matrix while it is computed.
void TestResearcherExpects::plotsSayWhatToDoBeforeARun() {
  MainWindow w(kModel);
  w.show();
  const char* const names[] = {"heatmapPlotEmpty", "memoryLayersEmpty", "memoryStepsEmpty",
                               "adjacentCurvesEmpty", "thumbnailsEmpty"};
  for (const char* name : names) {
    const auto* empty = child<QLabel>(w, name);
    QVERIFY2(!empty->isHidden() && empty->text().startsWith("Run a prompt"), name);
    QCOMPARE(empty->geometry(), empty->parentWidget()->rect());  // covers its plot
  }
  QVERIFY(kvs::ui::test::runPrompt(w, 120));
  QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(w, "adjacentCurvesEmpty")->isHidden(), kTimeoutMs);
  for (const char* name : names) QVERIFY2(child<QLabel>(w, name)->isHidden(), name);

  // A new prompt (as a run's promptReady): covered until its matrix comes.
  kvs::ui::PromptInfo info = w.controller()->prompt();
  w.heatmap()->setPrompt(info);
  QVERIFY(!child<QLabel>(w, "heatmapPlotEmpty")->isHidden());
  QTRY_VERIFY_WITH_TIMEOUT(child<QLabel>(w, "heatmapPlotEmpty")->isHidden(), kTimeoutMs);
}

// Output colours the prompt's tokens by fate; the legend under it names each colour as used.
void TestResearcherExpects::outputHasATokenColourLegend() {
  MainWindow w(kModel);
  w.show();
  const auto* legend = child<QLabel>(w, "fateLegend");
  QVERIFY(!legend->isHidden());
  const QString html = legend->text();
  for (auto f : {kvs::ui::Fate::kProtected, kvs::ui::Fate::kPivot, kvs::ui::Fate::kMerged,
                 kvs::ui::Fate::kEvicted}) {
    const QString swatch = QStringLiteral("background:%1\">&nbsp;%2")
                               .arg(kvs::ui::fateColour(f).name(), kvs::ui::fateName(f));
    QVERIFY2(html.contains(swatch), qPrintable(html));
  }
  QVERIFY(html.contains(kvs::ui::fateName(kvs::ui::Fate::kKept)));
  // Under the text, above the progress bar.
  const auto* output = child<QPlainTextEdit>(w, "output");
  QVERIFY(legend->mapTo(&w, QPoint(0, 0)).y() >=
          output->mapTo(&w, QPoint(0, output->height())).y());
}

QTEST_MAIN(TestResearcherExpects)
#include "test_researcher_expects.moc"
