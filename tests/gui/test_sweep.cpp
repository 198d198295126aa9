// The Sweep view (issue 20): a sweep run from the kept prefill draws, number for number, the
// curves `kvstudio-cli compare --sweep` writes for the same prompt; a click on a point shows its
// text and memory and sends its setting to Parameters; the figure exports with its CSV. Over a
// prompts file the app's curves are the same numbers as compare's and as a merged sweep's of the
// same plan (test_sweep_prompts.cpp).

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QProgressBar>
#include <QTextEdit>
#include <QtTest>
#include <map>
#include <nlohmann/json.hpp>

#include "gui_test_util.h"
#include "model/cli_runner.h"
#include "qcustomplot_include.h"
#include "session_controller.h"
#include "sweep_panel.h"
#include "sweep_plot.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

namespace {

constexpr int kNewTokens = 12;

// Sets up the panel for budget=0.3:0.7:3 over kvmerger and h2o and runs it.
bool runSweep(MainWindow& w) {
  SweepPanel* panel = w.sweep();
  auto* parameter = child<QComboBox>(*panel, "sweepParameter");
  parameter->setCurrentIndex(parameter->findData(QStringLiteral("budget")));
  child<QLineEdit>(*panel, "sweepValues")->setText(QStringLiteral("0.3:0.7:3"));
  for (QCheckBox* box : panel->findChildren<QCheckBox*>()) {
    const QString name = box->objectName();
    if (!name.startsWith("sweepMethod_")) continue;
    box->setChecked(name == "sweepMethod_kvmerger" || name == "sweepMethod_h2o");
  }
  QTest::mouseClick(child<QPushButton>(*panel, "sweepRun"), Qt::LeftButton);
  return QTest::qWaitFor([&] { return !panel->running() && !panel->curves().points.empty(); },
                         kTimeoutMs);
}

}  // namespace

class TestSweep : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    const QString problem = isolateSettings(settingsDir_, QStringLiteral("test_sweep"));
    if (!problem.isEmpty()) QSKIP(qPrintable(problem));
  }

  void drawnCurvesAreTheClis() {
    MainWindow w(kModel);
    w.show();
    QVERIFY(runPrompt(w, promptTokens() + kNewTokens - 1));
    QVERIFY(runSweep(w));
    SweepPanel* panel = w.sweep();
    QCOMPARE(child<QLabel>(*panel, "sweepStatus")->text().contains("6 variants"), true);

    const kvs::test::CliRun cli = kvs::test::runCliCommand(
        "compare --model " + kModel.toStdString() + " --prompt '" + kPrompt.toStdString() +
        "' --methods full,kvmerger,h2o --sweep budget=0.3:0.7:3 --new-tokens " +
        std::to_string(kNewTokens) + " --json");
    QVERIFY2(cli.exitCode == 0, cli.err.c_str());
    const auto sweep = nlohmann::json::parse(cli.out).at("sweep");
    QCOMPARE(sweep.at("points").size(), size_t(6));

    auto* measure = child<QComboBox>(*panel, "sweepMeasure");
    int compared = 0;
    for (int m = 0; m < measure->count(); ++m) {
      measure->setCurrentIndex(m);
      const std::string key = measure->currentData().toString().toStdString();
      for (const auto& point : sweep.at("points")) {
        QCPGraph* graph = sweepGraph(panel->plot(), QString::fromStdString(point.at("method")));
        QVERIFY(graph);
        const double x = point.at("x").get<double>();
        const auto it = graph->data()->findBegin(x, false);
        QVERIFY(it != graph->data()->constEnd() && it->key == x);
        const double cliValue = point.at(key).at("mean").get<double>();
        // The same numbers, not merely close: the app compares from the kept prefill, the CLI
        // from a fresh one, through the one decode path.
        QVERIFY2(std::abs(it->value - cliValue) <= 1e-9 * std::max(1.0, std::abs(cliValue)),
                 qPrintable(QStringLiteral("%1 %2 at %3: app %4, CLI %5")
                                .arg(QString::fromStdString(key),
                                     QString::fromStdString(point.at("method")))
                                .arg(x)
                                .arg(it->value, 0, 'g', 17)
                                .arg(cliValue, 0, 'g', 17)));
        ++compared;
      }
      QCPGraph* full = sweepGraph(panel->plot(), QStringLiteral("full cache"));
      QVERIFY(full);
      const double fullValue = sweep.at("reference").at(key).at("mean").get<double>();
      QVERIFY(std::abs(full->data()->constBegin()->value - fullValue) <=
              1e-9 * std::max(1.0, std::abs(fullValue)));
    }
    QCOMPARE(compared, 5 * 6);
  }

  void clickShowsTheVariantAndSendsItsSetting() {
    MainWindow w(kModel);
    w.resetLayout(QSize(1600, 1000));  // room for the plot to be clicked on
    w.show();
    QVERIFY(runPrompt(w, promptTokens() + kNewTokens - 1));
    QVERIFY(runSweep(w));
    SweepPanel* panel = w.sweep();
    w.findChild<QDockWidget*>("sweepDock")->raise();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QTRY_VERIFY(panel->plot()->isVisible() && panel->plot()->height() > 50);
    QTest::qWait(50);  // the tab's resize laid out
    panel->plot()->replot();
    // The highest point of the mean KL plot, clicked where it is drawn (lower ones may lie
    // within a click's tolerance of another method's line).
    int highest = 0;
    const auto& points = panel->curves().points;
    for (int i = 0; i < static_cast<int>(points.size()); ++i) {
      if (points[i].of(kvs::SweepMeasure::kMeanKl).mean >
          points[highest].of(kvs::SweepMeasure::kMeanKl).mean)
        highest = i;
    }
    const kvs::SweepPoint& target = points[highest];
    QCPGraph* graph = sweepGraph(panel->plot(), QString::fromStdString(target.method));
    QVERIFY(graph);
    const QPointF at = graph->coordsToPixels(target.x, target.of(kvs::SweepMeasure::kMeanKl).mean);
    QTest::mouseClick(panel->plot(), Qt::LeftButton, {}, at.toPoint());
    QTRY_VERIFY2(panel->selectedPoint() == highest,
                 qPrintable(QStringLiteral("selected %1, clicked %2 (%3 at %4) at %5,%6 on %7x%8")
                                .arg(panel->selectedPoint())
                                .arg(highest)
                                .arg(QString::fromStdString(target.method))
                                .arg(target.x)
                                .arg(at.x())
                                .arg(at.y())
                                .arg(panel->plot()->width())
                                .arg(panel->plot()->height())));
    const QString detail = child<QTextEdit>(*panel, "sweepDetail")->toPlainText();
    const QString expected = QStringLiteral("%1 at budget = %2")
                                 .arg(QString::fromStdString(target.method))
                                 .arg(QString::fromStdString(target.value.dump()));
    QVERIFY2(detail.contains(expected), qPrintable(detail));
    QVERIFY2(detail.contains("KV bytes"), qPrintable(detail));
    QVERIFY2(detail.contains("merging sets"), qPrintable(detail));
    // Its merging sets on the views: the kept prompt's layout under the clicked setting.
    QTRY_VERIFY(w.controller()->layout().params.method == target.method &&
                w.controller()->layout().params.budget == target.value.get<double>());
    QTest::mouseClick(child<QPushButton>(*panel, "sweepUseParams"), Qt::LeftButton);
    QCOMPARE(w.parameters()->params().method, target.method);
    QCOMPARE(w.parameters()->params().budget, target.value.get<double>());

    QTemporaryDir out;
    ExportRequest request;
    request.path = out.filePath("sweep.png");
    request.width = 600;
    request.height = 400;
    QCOMPARE(w.exportView(QStringLiteral("sweep"), request), QString());
    QFile csv(out.filePath("sweep.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().count('\n'), 1 + 1 + 6);
    QVERIFY(QFile::exists(out.filePath("sweep.json")));
  }

  void stopEndsTheSweepMidway() {
    MainWindow w(kModel);
    w.show();
    QVERIFY(runPrompt(w, promptTokens() + kNewTokens - 1));
    SweepPanel* panel = w.sweep();
    // Every method at 81 budgets: far longer than the wait for Stop.
    child<QLineEdit>(*panel, "sweepValues")->setText(QStringLiteral("0.1:0.9:81"));
    for (QCheckBox* box : panel->findChildren<QCheckBox*>()) {
      if (box->objectName().startsWith("sweepMethod_")) box->setChecked(true);
    }
    QTest::mouseClick(child<QPushButton>(*panel, "sweepRun"), Qt::LeftButton);
    auto* progress = child<QProgressBar>(*panel, "sweepProgress");
    QVERIFY(QTest::qWaitFor([&] { return progress->maximum() > 1 && progress->value() > 0; },
                            kTimeoutMs));
    QTest::mouseClick(child<QPushButton>(*panel, "sweepStop"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !panel->running(); }, kTimeoutMs));
    const QString status = child<QLabel>(*panel, "sweepStatus")->text();
    QVERIFY2(status.startsWith("stopped after"), qPrintable(status));
    QVERIFY(panel->curves().points.empty());  // nothing half-measured is drawn
    QVERIFY(child<QPushButton>(*panel, "sweepRun")->isEnabled());
  }

 private:
  QTemporaryDir settingsDir_;
};

QTEST_MAIN(TestSweep)
#include "test_sweep.moc"
