// Evaluations run from the app's Evaluation panel on stories260K, offscreen: a small needle grid
// runs on the worker and its heatmaps fill; Stop ends a run, keeping the records written, and a
// second run resumes them; a file of another model is refused; LongBench tasks run from a data
// folder the test writes. With KVS_EVAL_SCREENSHOT_DIR set, the window at 1366x768 with the
// needle heatmaps is saved there (eval_panel_needle.png).

#include <QComboBox>
#include <QDockWidget>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <nlohmann/json.hpp>

#include "eval_longbench_view.h"
#include "eval_needle_view.h"
#include "eval_panel.h"
#include "eval_run_form.h"
#include "gui_test_util.h"
#include "heatmap_panel.h"
#include "main_window.h"
#include "parameters_panel.h"
#include "session_controller.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

namespace {

int lineCount(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) return -1;
  return f.readAll().count('\n');
}

bool waitForModel(const MainWindow& w) {
  return QTest::qWaitFor([&] { return child<QPushButton>(w, "run")->isEnabled(); }, kTimeoutMs);
}

bool ended(const EvalPanel& p) {
  return !p.running() && p.lastStatus().state != EvalRunStatus::State::kRunning;
}

// The Run page's needle fields.
void setNeedleFields(const EvalPanel& p, const QString& lengths, const QString& depths,
                     const QString& methods, const QString& budgets, const QString& out) {
  auto* kind = child<QComboBox>(p, "evalKind");
  kind->setCurrentIndex(kind->findData("needle"));
  child<QLineEdit>(p, "evalLengths")->setText(lengths);
  child<QLineEdit>(p, "evalDepths")->setText(depths);
  child<QLineEdit>(p, "evalMethods")->setText(methods);
  child<QLineEdit>(p, "evalNeedleBudgets")->setText(budgets);
  child<QLineEdit>(p, "evalOut")->setText(out);
}

}  // namespace

class TestEvalRun : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void panelIsATabOfTheWindow();
  void needleGridRuns();
  void stopKeepsTheRecordsAndResumes();
  void anotherModelsFileIsRefused();
  void longBenchRuns();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestEvalRun::initTestCase() {
  const QString problem = isolateSettings(settingsDir_, "test_eval_run");
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestEvalRun::panelIsATabOfTheWindow() {
  MainWindow w(kModel);
  auto* dock = child<QDockWidget>(w, "evaluationDock");
  QVERIFY(w.evaluation());
  QCOMPARE(dock->widget(), static_cast<QWidget*>(w.evaluation()));
  QVERIFY(w.tabifiedDockWidgets(dock).contains(child<QDockWidget>(w, "layerRatioDock")));
  QVERIFY(w.findChild<QAction*>("openEvalResults"));
  QVERIFY(w.findChild<QAction*>("exportEvalNeedle"));
}

void TestEvalRun::needleGridRuns() {
  MainWindow w(kModel);
  w.resize(1366, 768);
  w.show();
  QVERIFY(waitForModel(w));
  EvalPanel* p = w.evaluation();
  const QString out = dir_.filePath("needle.jsonl");
  setNeedleFields(*p, "64,128", "0,1", "full,kvmerger", "0.5", out);
  child<QPushButton>(*p, "evalStart")->click();
  QVERIFY(p->running());
  QVERIFY(QTest::qWaitFor([&] { return ended(*p); }, kTimeoutMs));
  const EvalRunStatus& s = p->lastStatus();
  QVERIFY2(s.state == EvalRunStatus::State::kDone, qPrintable(s.error));
  QCOMPARE(s.total, 8);  // 2 lengths x 2 depths x (full, kvmerger 0.5)
  QCOMPARE(s.done, 8);
  QCOMPARE(lineCount(out), 8);
  QCOMPARE(p->data().kind, QStringLiteral("needle"));
  // The records name the model as the window loaded it, so a later run of it resumes them.
  QCOMPARE(p->data().records.size(), size_t(8));
  for (const nlohmann::json& r : p->data().records) {
    QCOMPARE(QString::fromStdString(r.value("model", "")), kModel);
  }
  EvalNeedleView* view = p->needleView();
  QCOMPARE(view->heatmapCount(), 2);
  for (int setting = 0; setting < 2; ++setting) {
    for (int d = 0; d < 2; ++d) {
      for (int l = 0; l < 2; ++l) QVERIFY(!std::isnan(view->shownCell(setting, d, l)));
    }
  }
  // The same file opened afterwards shows the same grid.
  EvalPanel reopened;
  QSignalSpy opened(&reopened, &EvalPanel::opened);
  reopened.openResults(out);
  QVERIFY(opened.wait(kTimeoutMs));
  QCOMPARE(reopened.needleView()->heatmapCount(), 2);
  QCOMPARE(reopened.figureCsv("eval-needle")(), p->figureCsv("eval-needle")());
  // The heatmaps export as the other figures do: the figure, its CSV (the grid) and the sidecar.
  ExportRequest request;
  request.path = dir_.filePath("needle_figure.pdf");
  request.format = ExportRequest::Format::kPdf;
  request.unit = ExportRequest::Unit::kInches;
  request.width = 7.0;
  request.height = 2.6;
  QCOMPARE(w.exportView("eval-needle", request), QString());
  QVERIFY(QFile::exists(request.path));
  QFile csv(dir_.filePath("needle_figure.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  QCOMPARE(QString::fromUtf8(csv.readAll()), p->figureCsv("eval-needle")());
  QFile sidecar(dir_.filePath("needle_figure.json"));
  QVERIFY(sidecar.open(QIODevice::ReadOnly));
  const QJsonObject sidecarView =
      QJsonDocument::fromJson(sidecar.readAll()).object()["view"].toObject();
  QCOMPARE(sidecarView["kind"].toString(), QStringLiteral("needle"));
  QCOMPARE(sidecarView["results_file"].toString(), out);
  // The fields persist.
  QCOMPARE(QSettings().value("evaluation/lengths").toString(), QStringLiteral("64,128"));
  QCOMPARE(child<QLineEdit>(reopened, "evalLengths")->text(), QStringLiteral("64,128"));
  QCOMPARE(child<QLineEdit>(reopened, "evalOut")->text(), out);
  const QString shots = qEnvironmentVariable("KVS_EVAL_SCREENSHOT_DIR");
  if (!shots.isEmpty()) {
    child<QDockWidget>(w, "evaluationDock")->raise();
    child<QTabWidget>(*p, "evalTabs")->setCurrentIndex(0);
    // The answer's NLL: a 260K model never answers, so the contains rate is 0 everywhere.
    view->setValue(EvalNeedleView::Value::kMeanNll);
    QTest::qWait(200);
    QVERIFY(w.grab().save(shots + "/eval_panel_needle.png"));
    ExportRequest figure = request;  // the exported figure, as a PNG at 200 DPI
    figure.path = shots + "/eval_needle_figure.png";
    figure.format = ExportRequest::Format::kPng;
    figure.dpi = 200;
    QCOMPARE(w.exportView("eval-needle", figure), QString());
    child<QTabWidget>(*p, "evalTabs")->setCurrentIndex(1);
    QTest::qWait(100);
    QVERIFY(w.grab().save(shots + "/eval_panel_run.png"));
  }
}

void TestEvalRun::stopKeepsTheRecordsAndResumes() {
  MainWindow w(kModel);
  QVERIFY(waitForModel(w));
  EvalPanel* p = w.evaluation();
  const QString out = dir_.filePath("stopped.jsonl");
  // 7 lengths x 11 depths x 3 settings: many seconds on this machine, stopped after the first.
  setNeedleFields(*p, "64,96,128,160,192,224,256", "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1",
                  "full,kvmerger,h2o", "0.5", out);
  child<QPushButton>(*p, "evalStart")->click();
  QVERIFY(QTest::qWaitFor([&] { return p->lastStatus().done > 0; }, kTimeoutMs));
  child<QPushButton>(*p, "evalStop")->click();
  QVERIFY(QTest::qWaitFor([&] { return ended(*p); }, kTimeoutMs));
  const EvalRunStatus stopped = p->lastStatus();
  QVERIFY2(stopped.state == EvalRunStatus::State::kStopped, qPrintable(stopped.error));
  QCOMPARE(stopped.total, 7 * 11 * 3);
  QVERIFY(stopped.done > 0 && stopped.done < stopped.total);
  const int written = lineCount(out);
  QCOMPARE(written, stopped.recordCount);
  QCOMPARE(int(p->data().records.size()), written);  // the statuses added up to the file
  QCOMPARE(written, stopped.done);
  QVERIFY(child<QLabel>(*p, "evalStatus")->text().startsWith("Stopped"));

  // Again on the same file: the records are kept and skipped, and the status says so.
  child<QPushButton>(*p, "evalStart")->click();
  QVERIFY(QTest::qWaitFor([&] { return p->lastStatus().resumed > 0 || ended(*p); }, kTimeoutMs));
  QCOMPARE(p->lastStatus().resumed, written);
  QVERIFY(child<QLabel>(*p, "evalStatus")->text().contains("Resumed"));
  p->stopRun();
  QVERIFY(QTest::qWaitFor([&] { return ended(*p); }, kTimeoutMs));
  QVERIFY(lineCount(out) >= written);
}

void TestEvalRun::anotherModelsFileIsRefused() {
  MainWindow w(kModel);
  QVERIFY(waitForModel(w));
  EvalPanel* p = w.evaluation();
  const QString out = dir_.filePath("other_model.jsonl");
  QFile f(out);
  QVERIFY(f.open(QIODevice::WriteOnly));
  const nlohmann::json record = {
      {"task", "needle"}, {"id", "L64_d0"}, {"params", {{"method", "full"}}}, {"model", "7b.bin"}};
  f.write(QByteArray::fromStdString(record.dump() + "\n"));
  f.close();
  setNeedleFields(*p, "64", "0", "full", "0.5", out);
  child<QPushButton>(*p, "evalStart")->click();
  QVERIFY(QTest::qWaitFor([&] { return ended(*p); }, kTimeoutMs));
  const EvalRunStatus& s = p->lastStatus();
  QVERIFY(s.state == EvalRunStatus::State::kFailed);
  QVERIFY2(s.error.contains("holds results of the model 7b.bin"), qPrintable(s.error));
  QCOMPARE(lineCount(out), 1);  // untouched
}

// passage_count over three TinyStories-like paragraphs; two samples, full and kvmerger 0.5.
void TestEvalRun::longBenchRuns() {
  QTemporaryDir data;
  QFile f(data.filePath("passage_count.jsonl"));
  QVERIFY(f.open(QIODevice::WriteOnly));
  for (int i = 0; i < 3; ++i) {
    const std::string story = kPrompt.toStdString();
    const nlohmann::json r = {{"input", ""},
                              {"context", "Paragraph 1: " + story + "\n\nParagraph 2: " + story},
                              {"answers", {"1"}},
                              {"length", 100},
                              {"all_classes", nullptr},
                              {"language", "en"},
                              {"_id", "c" + std::to_string(i)}};
    f.write(QByteArray::fromStdString(r.dump() + "\n"));
  }
  f.close();
  MainWindow w(kModel);
  QVERIFY(waitForModel(w));
  EvalPanel* p = w.evaluation();
  auto* kind = child<QComboBox>(*p, "evalKind");
  kind->setCurrentIndex(kind->findData("longbench"));
  child<QLineEdit>(*p, "evalData")->setText(data.path());
  child<QLineEdit>(*p, "evalTasks")->setText("passage_count");
  child<QSpinBox>(*p, "evalLimit")->setValue(2);
  child<QLineEdit>(*p, "evalMethods")->setText("full,kvmerger");
  child<QLineEdit>(*p, "evalLongBenchBudgets")->setText("0.5");
  const QString out = dir_.filePath("longbench.jsonl");
  child<QLineEdit>(*p, "evalOut")->setText(out);
  child<QPushButton>(*p, "evalStart")->click();
  QVERIFY(QTest::qWaitFor([&] { return ended(*p); }, kTimeoutMs));
  const EvalRunStatus& s = p->lastStatus();
  QVERIFY2(s.state == EvalRunStatus::State::kDone, qPrintable(s.error));
  QCOMPARE(s.total, 4);
  QCOMPARE(lineCount(out), 4);
  QCOMPARE(p->data().kind, QStringLiteral("longbench"));
  QCOMPARE(p->data().table.size(), size_t(2));
  QCOMPARE(QString::fromStdString(p->data().table[0].task), QStringLiteral("passage_count"));
  QCOMPARE(p->data().table[0].samples, 2);

  // "Show on the heatmap" of a kvmerger sample: its prompt (the full cache's record keeps it) in
  // the Prompt panel, kvmerger in Parameters, and a run of that prompt on the heatmap.
  p->longBenchView()->table()->setCurrentCell(1, 0);  // passage_count / kvmerger_0.50
  p->longBenchView()->samples()->setCurrentCell(0, 0);
  QSignalSpy finished(w.controller(), &SessionController::finished);
  child<QPushButton>(*p, "loadSetting")->click();
  QVERIFY(finished.wait(kTimeoutMs));
  const QString prompt = child<QPlainTextEdit>(w, "prompt")->toPlainText();
  QVERIFY2(prompt.startsWith("[INST]There are some paragraphs below"), qPrintable(prompt));
  QCOMPARE(QString::fromStdString(w.parameters()->params().method), QStringLiteral("kvmerger"));
  QTRY_COMPARE_WITH_TIMEOUT(w.heatmap()->tokens(),
                            static_cast<int>(w.controller()->prompt().ids.size()), kTimeoutMs);
  QVERIFY(w.heatmap()->tokens() > 100);  // the sample's prompt, not the window's earlier one
  const QString shots = qEnvironmentVariable("KVS_EVAL_SCREENSHOT_DIR");
  if (!shots.isEmpty()) {
    w.resize(1366, 768);
    w.show();
    child<QDockWidget>(w, "evaluationDock")->raise();
    child<QTabWidget>(*p, "evalTabs")->setCurrentIndex(0);
    QTest::qWait(100);
    w.resizeDocks({child<QDockWidget>(w, "evaluationDock")}, {360}, Qt::Vertical);
    QTest::qWait(200);
    QVERIFY(w.grab().save(shots + "/eval_panel_longbench.png"));
    child<QTabWidget>(*p, "longBenchPages")->setCurrentIndex(1);
    child<QTableWidget>(*p, "longBenchSamples")->setCurrentCell(1, 0);
    QTest::qWait(200);
    QVERIFY(w.grab().save(shots + "/eval_panel_longbench_samples.png"));
  }
}

QTEST_MAIN(TestEvalRun)
#include "test_eval_run.moc"
