// The Sweep view over a prompts file (issue 20): every point is the mean over the prompts, and the
// app's curves are the same numbers, to the last bit, as `kvstudio-cli compare --sweep --json`
// over the same file and as the plan of the same sweep run in two shards (`sweep run --shard`,
// no Slurm), merged and opened in the view. The expected per-prompt values are compare's own
// rows and the statistics plain loops over them; a min-max band replaces the error bars on
// request; the CSV holds every prompt's value; a click shows a chosen prompt's text and merging
// sets; Stop ends the run between prompts.

#include <QCheckBox>
#include <QComboBox>
#include <QLineEdit>
#include <QProgressBar>
#include <QSpinBox>
#include <QTextEdit>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "gui_test_util.h"
#include "model/cli_runner.h"
#include "qcustomplot_include.h"
#include "sweep_panel.h"
#include "sweep_plot.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

namespace {

constexpr int kNewTokens = 8;
const char* kMeasures[] = {"mean_kl", "max_kl", "top1_agreement", "nll", "kv_bytes"};

void choose(SweepPanel& panel, const QString& values, const QStringList& methods) {
  auto* parameter = child<QComboBox>(panel, "sweepParameter");
  parameter->setCurrentIndex(parameter->findData(QStringLiteral("budget")));
  child<QLineEdit>(panel, "sweepValues")->setText(values);
  for (QCheckBox* box : panel.findChildren<QCheckBox*>()) {
    const QString name = box->objectName();
    if (name.startsWith("sweepMethod_")) box->setChecked(methods.contains(name.mid(12)));
  }
}

// Equal, bit for bit, in every statistic and every prompt's value.
bool sameCurves(const kvs::SweepCurves& a, const kvs::SweepCurves& b, QString* why) {
  if (a.points.size() != b.points.size() || a.prompts != b.prompts) {
    *why = QStringLiteral("%1 vs %2 points").arg(a.points.size()).arg(b.points.size());
    return false;
  }
  for (size_t i = 0; i <= a.points.size(); ++i) {
    const kvs::SweepPoint& p = i == 0 ? a.reference : a.points[i - 1];
    const kvs::SweepPoint& q = i == 0 ? b.reference : b.points[i - 1];
    const bool same =
        p.method == q.method && p.value == q.value && p.perPrompt == q.perPrompt &&
        std::equal(p.stats.begin(), p.stats.end(), q.stats.begin(),
                   [](const kvs::SweepStats& s, const kvs::SweepStats& t) {
                     return s.mean == t.mean && s.std == t.std && s.min == t.min && s.max == t.max;
                   });
    if (!same) {
      *why = QString::fromStdString(p.method + " at " + p.value.dump() + " differs");
      return false;
    }
  }
  return true;
}

}  // namespace

class TestSweepPrompts : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    const QString problem = isolateSettings(settingsDir_, QStringLiteral("test_sweep_prompts"));
    if (!problem.isEmpty()) QSKIP(qPrintable(problem));
    std::ofstream(dir_.filePath("prompts.txt").toStdString())
        << "# two prompts, so each point has a spread\n"
        << "Once upon a time, there was a little girl named Lily. She loved to play outside.\n"
        << "Tom had a big dog. The dog liked to run and jump in the garden every day.\n";
  }

  void curvesAreComparesAndTheMergedSweeps() {
    MainWindow w(kModel);
    w.show();
    QVERIFY(runPrompt(w, promptTokens() + 4));  // a kept prompt that the file's sweep leaves be
    SweepPanel& panel = *w.sweep();
    choose(panel, QStringLiteral("0.3:0.7:3"), {"h2o", "kvmerger"});
    panel.setPromptsFile(dir_.filePath("prompts.txt"));
    child<QSpinBox>(panel, "sweepNewTokens")->setValue(kNewTokens);
    QTest::mouseClick(child<QPushButton>(panel, "sweepRun"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !panel.running() && !panel.curves().points.empty(); },
                            kTimeoutMs));
    const QString status = child<QLabel>(panel, "sweepStatus")->text();
    QVERIFY2(status.contains("12 variants over 2 prompts"), qPrintable(status));
    const kvs::SweepCurves app = panel.curves();
    QCOMPARE(app.prompts, 2);
    QCOMPARE(app.points.size(), size_t(6));

    const std::string file = dir_.filePath("prompts.txt").toStdString();
    const kvs::test::CliRun cli = kvs::test::runCliCommand(
        "compare --model " + kModel.toStdString() + " --prompts-file '" + file +
        "' --methods full,h2o,kvmerger --sweep budget=0.3:0.7:3 --new-tokens " +
        std::to_string(kNewTokens) + " --json");
    QVERIFY2(cli.exitCode == 0, cli.err.c_str());
    const auto json = nlohmann::json::parse(cli.out);
    // Each point's per-prompt values are compare's rows; its statistics plain loops over them.
    int checked = 0;
    for (size_t i = 0; i <= app.points.size(); ++i) {
      const kvs::SweepPoint& p = i == 0 ? app.reference : app.points[i - 1];
      for (int m = 0; m < 5; ++m) {
        std::vector<double> rows;
        for (const auto& row : json.at("variants")) {
          if (row.at("method") == p.method &&
              (p.value.is_null() || row.at("budget").get<double>() == p.value.get<double>()))
            rows.push_back(row.at(kMeasures[m]).get<double>());
        }
        QCOMPARE(rows.size(), size_t(2));
        const QString what = QStringLiteral("%1 at %2, %3: app %4 %5, compare %6 %7")
                                 .arg(QString::fromStdString(p.method),
                                      QString::fromStdString(p.value.dump()), kMeasures[m])
                                 .arg(p.perPrompt.at(0)[m], 0, 'g', 17)
                                 .arg(p.perPrompt.at(1)[m], 0, 'g', 17)
                                 .arg(rows[0], 0, 'g', 17)
                                 .arg(rows[1], 0, 'g', 17);
        QVERIFY2(p.perPrompt.at(0)[m] == rows[0] && p.perPrompt.at(1)[m] == rows[1],
                 qPrintable(what));
        const double mean = rows[0] / 2 + rows[1] / 2;
        const double std = std::sqrt(
            ((rows[0] - mean) * (rows[0] - mean) + (rows[1] - mean) * (rows[1] - mean)) / 2);
        QVERIFY(std::abs(p.stats[m].mean - mean) <= 1e-12 * std::max(1.0, std::abs(mean)));
        QVERIFY(std::abs(p.stats[m].std - std) <= 1e-12 * std::max(1.0, std::abs(mean)));
        QCOMPARE(p.stats[m].min, std::min(rows[0], rows[1]));
        QCOMPARE(p.stats[m].max, std::max(rows[0], rows[1]));
        ++checked;
      }
    }
    QCOMPARE(checked, 7 * 5);
    QVERIFY(app.points[0].of(kvs::SweepMeasure::kNll).std > 0);  // the prompts do differ

    // compare's JSON and the merged sweep, opened in the view: the same numbers.
    const QString comparePath = dir_.filePath("compare.json");
    std::ofstream(comparePath.toStdString()) << cli.out;
    QCOMPARE(panel.openJson(comparePath), QString());
    QString why;
    QVERIFY2(sameCurves(app, panel.curves(), &why), qPrintable("compare: " + why));
    const nlohmann::json plan = {
        {"name", "gui-sweep"},
        {"models", {kModel.toStdString()}},
        {"tasks", {{{"kind", "compare"}, {"prompts", file}, {"new_tokens", kNewTokens}}}},
        {"settings",
         {{{"method", "full"}},
          {{"method", {"h2o", "kvmerger"}}, {"sweep", {"budget=0.3:0.7:3"}}},
          {{"method", "kvmerger"}, {"budget", 0.5}, {"sweep", {"sigma=1,5"}}}}}};
    std::ofstream(dir_.filePath("plan.json").toStdString()) << plan.dump();
    const std::string out = dir_.filePath("out").toStdString();
    for (const char* shard : {"0/2", "1/2"}) {
      const auto r =
          kvs::test::runCliCommand("sweep run '" + dir_.filePath("plan.json").toStdString() +
                                   "' --out '" + out + "' --shard " + shard);
      QVERIFY2(r.exitCode == 0, r.err.c_str());
    }
    const auto merged = kvs::test::runCliCommand("sweep merge '" + out + "'");
    QVERIFY2(merged.exitCode == 0, merged.err.c_str());
    QCOMPARE(panel.openJson(QString::fromStdString(out + "/merged/results.json")), QString());
    QVERIFY2(sameCurves(app, panel.curves(), &why), qPrintable("merged: " + why));
    QVERIFY(child<QLabel>(panel, "sweepStatus")->text().contains("sigma=1,5"));
  }

  void bandCsvAndDetailOfAPrompt() {
    MainWindow w(kModel);
    w.show();
    QVERIFY(runPrompt(w, promptTokens() + 4));
    SweepPanel& panel = *w.sweep();
    choose(panel, QStringLiteral("0.3,0.6"), {"kvmerger"});
    panel.setPromptsFile(dir_.filePath("prompts.txt"));
    child<QSpinBox>(panel, "sweepNewTokens")->setValue(kNewTokens);
    QTest::mouseClick(child<QPushButton>(panel, "sweepRun"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !panel.running() && !panel.curves().points.empty(); },
                            kTimeoutMs));
    const auto errorBars = [&] {
      int n = 0;
      for (int i = 0; i < panel.plot()->plottableCount(); ++i)
        n += qobject_cast<QCPErrorBars*>(panel.plot()->plottable(i)) != nullptr;
      return n;
    };
    QCOMPARE(errorBars(), 1);
    auto* spread = child<QComboBox>(panel, "sweepSpread");
    spread->setCurrentIndex(spread->findData(QStringLiteral("band")));
    QCOMPARE(errorBars(), 0);
    QCPGraph* low = sweepGraph(panel.plot(), QStringLiteral("kvmerger min"));
    QCPGraph* high = sweepGraph(panel.plot(), QStringLiteral("kvmerger max"));
    QVERIFY(low && high);
    QCOMPARE(high->channelFillGraph(), low);
    const kvs::SweepPoint& first = panel.curves().points[0];
    const double a = first.perPrompt[0][0], b = first.perPrompt[1][0];  // mean KL per prompt
    QCOMPARE(low->data()->constBegin()->value, std::min(a, b));
    QCOMPARE(high->data()->constBegin()->value, std::max(a, b));

    QTemporaryDir out;
    ExportRequest request;
    request.path = out.filePath("sweep.svg");
    request.width = 600;
    request.height = 400;
    QCOMPARE(w.exportView(QStringLiteral("sweep"), request), QString());
    QFile csv(out.filePath("sweep.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
    // The header, 3 summary rows (full cache, 2 budgets), then 3 x 2 prompts' rows.
    QCOMPARE(lines.size(), 1 + 3 + 3 * 2);
    QVERIFY(lines[0].startsWith("method,budget,x,prompts,prompt,mean_kl_mean"));
    const QStringList row = lines[1 + 3 + 2 * 1 + 1].split(',');  // kvmerger 0.3, prompt 2
    QCOMPARE(row[0], QStringLiteral("kvmerger"));
    QCOMPARE(row[4], QStringLiteral("2"));
    QCOMPARE(row[5].toDouble(), QString::number(b, 'g', 6).toDouble());
    QFile sidecar(out.filePath("sweep.json"));
    QVERIFY(sidecar.open(QIODevice::ReadOnly));
    const auto side = nlohmann::json::parse(sidecar.readAll().toStdString());
    QCOMPARE(side.at("view").at("new_tokens").get<int>(), kNewTokens);
    QCOMPARE(side.at("view").at("error_bars").get<std::string>(),
             std::string("min-max band over prompts"));

    panel.selectPoint(0);
    child<QSpinBox>(panel, "sweepDetailPrompt")->setValue(2);
    const QString detail = child<QTextEdit>(panel, "sweepDetail")->toPlainText();
    QVERIFY2(detail.contains("prompt 2: Tom had a big dog"), qPrintable(detail));
    QVERIFY2(detail.contains("merging sets"), qPrintable(detail));
    QVERIFY2(detail.contains("KV bytes"), qPrintable(detail));
  }

  void stopEndsAFileSweep() {
    MainWindow w(kModel);
    w.show();
    QVERIFY(runPrompt(w, promptTokens() + 4));
    SweepPanel& panel = *w.sweep();
    choose(panel, QStringLiteral("0.1:0.9:81"), {"kvmerger", "h2o", "streaming"});
    panel.setPromptsFile(dir_.filePath("prompts.txt"));
    QTest::mouseClick(child<QPushButton>(panel, "sweepRun"), Qt::LeftButton);
    auto* progress = child<QProgressBar>(panel, "sweepProgress");
    QVERIFY(QTest::qWaitFor([&] { return progress->maximum() > 1 && progress->value() > 0; },
                            kTimeoutMs));
    QCOMPARE(progress->maximum(), 2 * 3 * 81);
    QTest::mouseClick(child<QPushButton>(panel, "sweepStop"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return !panel.running(); }, kTimeoutMs));
    const QString status = child<QLabel>(panel, "sweepStatus")->text();
    QVERIFY2(status.startsWith("stopped after"), qPrintable(status));
    QVERIFY(panel.curves().points.empty());
  }

 private:
  QTemporaryDir settingsDir_, dir_;
};

QTEST_MAIN(TestSweepPrompts)
#include "test_sweep_prompts.moc"
