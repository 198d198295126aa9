// The Evaluation panel's results views, offscreen, without a model: results files the test writes
// (LongBench records, needle records, the perplexity JSON) are opened and their numbers checked
// against hand computations from those records; a sample's details; the exports' CSVs. With
// KVS_EVAL_SCREENSHOT_DIR set, the perplexity view is saved there (eval_panel_perplexity.png),
// showing that folder's perplexity.json when there is one.

#include "compress/compression_params.h"

#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <cmath>
#include <nlohmann/json.hpp>
#include "qcustomplot_include.h"

#include "eval_longbench_view.h"
#include "eval_needle_view.h"
#include "eval_panel.h"
#include "eval_perplexity_view.h"
#include "gui_test_util.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

namespace {

nlohmann::json fullParams() {
  return kvs::toJson(kvs::CompressionParams{});
}

nlohmann::json kvmergerParams() {
  kvs::CompressionParams p;
  p.method = "kvmerger";
  p.budget = 0.5;
  return kvs::toJson(p);
}

QString writeFile(const QTemporaryDir& dir, const QString& name, const std::string& text) {
  const QString path = dir.filePath(name);
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QByteArray::fromStdString(text));
  return path;
}

nlohmann::json longBenchRecord(const std::string& task, const std::string& id,
                               const std::string& setting, const nlohmann::json& params,
                               double score) {
  return {{"task", task},
          {"id", id},
          {"setting", setting},
          {"params", params},
          {"model", "m.bin"},
          {"prompt_tokens", 300 + int(id.size())},
          {"prompt_tokens_used", 300},
          {"truncated", true},
          {"pred", "prediction of " + id},
          {"answers", {"answer one of " + id, "answer two"}},
          {"score", score}};
}

nlohmann::json needleRecord(int length, double depth, const std::string& setting,
                            const nlohmann::json& params, int contains, double nll, int rank) {
  char id[64];
  std::snprintf(id, sizeof id, "L%d_d%g", length, depth);
  return {{"task", "needle"},     {"id", id},          {"setting", setting},
          {"params", params},     {"model", "m.bin"},  {"length", length},
          {"depth", depth},       {"needle_index", 0}, {"needle", "The secret word is apple."},
          {"contains", contains}, {"answer_nll", nll}, {"first_token_rank", rank}};
}

QString cell(const QTableWidget* t, int row, int column) {
  const QTableWidgetItem* item = t->item(row, column);
  return item ? item->text() : QString();
}

bool openAndWait(EvalPanel& panel, const QString& path) {
  QSignalSpy opened(&panel, &EvalPanel::opened);
  panel.openResults(path);
  return opened.count() > 0 || opened.wait(kTimeoutMs);
}

}  // namespace

class TestEvalPanel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void longBenchTableAndBars();
  void sampleDetailsAndSetting();
  void runUpdatesKeepTheSamples();
  void needleHeatmaps();
  void perplexityCurves();
  void badFileKeepsWhatWasShown();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestEvalPanel::initTestCase() {
  const QString problem = isolateSettings(settingsDir_, "test_eval_panel", /*needsModel=*/false);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// trec: full scores 1, 0, 1 -> 100 x 2/3 = 66.67; kvmerger 0, 0.5 -> 25.00. qasper: full 0.5 ->
// 50.00. Rows in the order the (task, setting) pairs first appear.
void TestEvalPanel::longBenchTableAndBars() {
  std::string text;
  for (const auto& r : {longBenchRecord("trec", "a", "full", fullParams(), 1.0),
                        longBenchRecord("trec", "a", "kvmerger_0.50", kvmergerParams(), 0.0),
                        longBenchRecord("trec", "b", "full", fullParams(), 0.0),
                        longBenchRecord("qasper", "q", "full", fullParams(), 0.5),
                        longBenchRecord("trec", "c", "full", fullParams(), 1.0),
                        longBenchRecord("trec", "b", "kvmerger_0.50", kvmergerParams(), 0.5)}) {
    text += r.dump() + "\n";
  }
  EvalPanel panel;
  QVERIFY(openAndWait(panel, writeFile(dir_, "longbench.jsonl", text)));
  QCOMPARE(panel.data().kind, QStringLiteral("longbench"));
  const QTableWidget* t = panel.longBenchView()->table();
  QCOMPARE(t->rowCount(), 3);
  const QStringList expected[] = {{"trec", "full", "3", "66.67"},
                                  {"trec", "kvmerger_0.50", "2", "25.00"},
                                  {"qasper", "full", "1", "50.00"}};
  for (int row = 0; row < 3; ++row) {
    for (int c = 0; c < 4; ++c) QCOMPARE(cell(t, row, c), expected[row][c]);
  }
  // Bars: one per setting, grouped by task (trec at 0, qasper at 1).
  QCustomPlot* plot = panel.longBenchView()->plot();
  QCOMPARE(plot->plottableCount(), 2);
  auto* full = qobject_cast<QCPBars*>(plot->plottable(0));
  auto* merged = qobject_cast<QCPBars*>(plot->plottable(1));
  QVERIFY(full && merged);
  QCOMPARE(full->name(), QStringLiteral("full"));
  QCOMPARE(full->data()->size(), 2);
  QCOMPARE(full->data()->at(0)->key, 0.0);
  QCOMPARE(full->data()->at(0)->value, 66.67);
  QCOMPARE(full->data()->at(1)->key, 1.0);
  QCOMPARE(full->data()->at(1)->value, 50.0);
  QCOMPARE(merged->data()->size(), 1);
  QCOMPARE(merged->data()->at(0)->value, 25.0);
  QCOMPARE(panel.figureCsv("eval-longbench")(),
           QStringLiteral("task,setting,samples,score\ntrec,full,3,66.67\ntrec,kvmerger_0.50,2,"
                          "25.00\nqasper,full,1,50.00\n"));
}

void TestEvalPanel::sampleDetailsAndSetting() {
  std::string text;
  nlohmann::json withPrompt = longBenchRecord("trec", "a", "full", fullParams(), 1.0);
  withPrompt["prompt"] = "[INST]Classify the question of a[/INST]";  // on the full cache's only
  for (const auto& r :
       {withPrompt, longBenchRecord("trec", "a", "kvmerger_0.50", kvmergerParams(), 0.0),
        longBenchRecord("trec", "bb", "kvmerger_0.50", kvmergerParams(), 0.5)}) {
    text += r.dump() + "\n";
  }
  EvalPanel panel;
  QVERIFY(openAndWait(panel, writeFile(dir_, "samples.jsonl", text)));
  EvalLongBenchView* view = panel.longBenchView();
  QCOMPARE(view->samples()->rowCount(), 1);  // the first row, trec / full, is selected
  view->table()->setCurrentCell(1, 0);       // trec / kvmerger_0.50: its two samples
  QCOMPARE(child<QLabel>(panel, "samplesOf")->text(),
           QStringLiteral("trec under kvmerger_0.50: 2 samples, score 25.00"));
  QCOMPARE(view->samples()->rowCount(), 2);
  QCOMPARE(cell(view->samples(), 1, 0), QStringLiteral("bb"));
  QCOMPARE(cell(view->samples(), 1, 1), QStringLiteral("302"));
  view->samples()->setCurrentCell(1, 0);
  const QString details = view->details()->toPlainText();
  for (const char* part : {"prompt: 302 tokens", "cut in the middle to 300", "score: 0.5",
                           "prediction of bb", "answer one of bb", "answer two"}) {
    QVERIFY2(details.contains(QLatin1String(part)), qPrintable(details));
  }
  QSignalSpy chosen(&panel, &EvalPanel::settingChosen);
  auto* load = child<QPushButton>(panel, "loadSetting");
  QVERIFY(load->isEnabled());
  load->click();
  QCOMPARE(chosen.count(), 1);
  const auto params = chosen.at(0).at(0).value<kvs::CompressionParams>();
  QCOMPARE(QString::fromStdString(params.method), QStringLiteral("kvmerger"));
  QCOMPARE(params.budget, 0.5);
  QVERIFY2(details.contains(QLatin1String("prompt: not in this file")), qPrintable(details));

  // Sample a under kvmerger: its prompt comes from the full cache's record of a.
  QSignalSpy prompts(&panel, &EvalPanel::sampleChosen);
  view->samples()->setCurrentCell(0, 0);
  QVERIFY2(view->details()->toPlainText().contains(
               QLatin1String("prompt, as the model read it:\n[INST]Classify the question of a")),
           qPrintable(view->details()->toPlainText()));
  load->click();
  QCOMPARE(prompts.count(), 1);
  QCOMPARE(prompts.at(0).at(0).toString(),
           QStringLiteral("[INST]Classify the question of a[/INST]"));
  QCOMPARE(chosen.count(), 2);
}

// A running evaluation's statuses replace the records the samples table points into: a sample
// clicked after an update must show that update's record.
void TestEvalPanel::runUpdatesKeepTheSamples() {
  EvalPanel panel;
  EvalRunStatus status;
  status.kind = "longbench";
  status.outPath = dir_.filePath("running.jsonl");
  status.records = {longBenchRecord("trec", "a", "full", fullParams(), 1.0)};
  panel.setStatus(status);
  EvalLongBenchView* view = panel.longBenchView();
  QCOMPARE(view->samples()->rowCount(), 1);
  for (const char* id : {"bb", "ccc", "dddd"}) {
    status.records.push_back(longBenchRecord("trec", id, "full", fullParams(), 0.0));
    panel.setStatus(status);
  }
  QCOMPARE(view->samples()->rowCount(), 4);
  QCOMPARE(cell(view->table(), 0, 3), QStringLiteral("25.00"));
  view->samples()->setCurrentCell(2, 0);
  const QString details = view->details()->toPlainText();
  QVERIFY2(details.contains("prediction of ccc") && details.contains("prompt: 303 tokens"),
           qPrintable(details));
}

// Two settings, lengths 64 and 128, depths 0 and 1; kvmerger lacks (128, 1): a blank cell.
void TestEvalPanel::needleHeatmaps() {
  std::string text;
  const auto add = [&](const nlohmann::json& r) { text += r.dump() + "\n"; };
  add(needleRecord(128, 0, "full", fullParams(), 1, 0.5, 1));
  add(needleRecord(64, 0, "full", fullParams(), 0, 2.0, 7));
  add(needleRecord(64, 1, "full", fullParams(), 1, 0.25, 2));
  add(needleRecord(128, 1, "full", fullParams(), 1, 1.0, 3));
  add(needleRecord(64, 0, "kvmerger_0.50", kvmergerParams(), 0, 3.0, 9));
  add(needleRecord(128, 0, "kvmerger_0.50", kvmergerParams(), 1, 1.5, 4));
  add(needleRecord(64, 1, "kvmerger_0.50", kvmergerParams(), 0, 2.5, 5));
  EvalPanel panel;
  QVERIFY(openAndWait(panel, writeFile(dir_, "needle.jsonl", text)));
  QCOMPARE(panel.data().kind, QStringLiteral("needle"));
  EvalNeedleView* view = panel.needleView();
  QCOMPARE(view->heatmapCount(), 2);
  QCOMPARE(view->plot()->axisRects().size(), 2);
  // [setting][depth][length] by hand from the records above.
  const double contains[2][2][2] = {{{0, 1}, {1, 1}}, {{0, 1}, {0, NAN}}};
  const double nll[2][2][2] = {{{2.0, 0.5}, {0.25, 1.0}}, {{3.0, 1.5}, {2.5, NAN}}};
  const double rank[2][2][2] = {{{7, 1}, {2, 3}}, {{9, 4}, {5, NAN}}};
  const std::pair<EvalNeedleView::Value, const double(*)[2][2]> values[] = {
      {EvalNeedleView::Value::kContainsRate, contains},
      {EvalNeedleView::Value::kMeanNll, nll},
      {EvalNeedleView::Value::kFirstRank, rank}};
  for (const auto& [value, expected] : values) {
    view->setValue(value);
    for (int s = 0; s < 2; ++s) {
      for (int d = 0; d < 2; ++d) {
        for (int l = 0; l < 2; ++l) {
          const double shown = view->shownCell(s, d, l);
          if (std::isnan(expected[s][d][l])) {
            QVERIFY(std::isnan(shown));
          } else {
            QCOMPARE(shown, expected[s][d][l]);
          }
        }
      }
    }
    // The colour map holds the same numbers (x: length index, y: depth index).
    auto* map = qobject_cast<QCPColorMap*>(view->plot()->plottable(1));
    QVERIFY(map);
    QCOMPARE(map->data()->cell(0, 1), expected[1][1][0]);
  }
  const QString csv = panel.figureCsv("eval-needle")();
  QVERIFY2(csv.startsWith("setting,depth,length,samples,contains_rate,mean_nll,mean_first_rank\n"
                          "full,0,64,1,0,2,7\nfull,0,128,1,1,0.5,1\n"),
           qPrintable(csv));
  QVERIFY2(csv.contains("kvmerger_0.50,1,128,0,0,0,0\n"), qPrintable(csv));
}

// The CLI's --out JSON. The legend's means are over the positions every curve covers (4 and 5
// here): the first curve's mean_nll_common as given, the second's (no such field) taken from its
// curve, (2 + 4) / 2.
void TestEvalPanel::perplexityCurves() {
  const nlohmann::json out = {{"tokens", 10},
                              {"curves",
                               {{{"setting", "full"},
                                 {"params", fullParams()},
                                 {"cache_size", 10},
                                 {"first_position", 2},
                                 {"mean_nll", 2.0},
                                 {"mean_nll_common", 2.5},
                                 {"nll", {1.0, 2.0, 3.0}}},
                                {{"setting", "h2o@4"},
                                 {"params", fullParams()},
                                 {"cache_size", 4},
                                 {"first_position", 4},
                                 {"nll", {2.0, 4.0}}}}}};
  EvalPanel panel;
  QVERIFY(openAndWait(panel, writeFile(dir_, "perplexity.json", out.dump(2))));
  QCOMPARE(panel.data().kind, QStringLiteral("perplexity"));
  QCustomPlot* plot = panel.perplexityView()->plot();
  QCOMPARE(plot->graphCount(), 2);
  QCOMPARE(plot->graph(0)->name(), QStringLiteral("full (cache 10): mean NLL 2.500"));
  QCOMPARE(plot->graph(1)->name(), QStringLiteral("h2o@4 (cache 4): mean NLL 3.000"));
  QCOMPARE(panel.data().curves[0].meanNll, 2.0);
  QCOMPARE(child<QCPTextElement>(*plot, "perplexityTitle")->text(),
           QStringLiteral("means over positions 4-9, which every curve covers"));
  QCOMPARE(plot->graph(0)->data()->size(), 3);
  QCOMPARE(plot->graph(0)->data()->at(0)->key, 2.0);
  QCOMPARE(plot->graph(1)->data()->at(1)->key, 5.0);
  QCOMPARE(plot->graph(1)->data()->at(1)->value, 4.0);
  QCOMPARE(
      panel.figureCsv("eval-perplexity")(),
      QStringLiteral("setting,cache_size,position,nll\nfull,10,2,1.000000\nfull,10,3,"
                     "2.000000\nfull,10,4,3.000000\nh2o@4,4,4,2.000000\nh2o@4,4,5,4.000000\n"));
  const QString shots = qEnvironmentVariable("KVS_EVAL_SCREENSHOT_DIR");
  if (!shots.isEmpty()) {
    // A real run's curves when the folder holds one (`kvstudio-cli eval perplexity --out`).
    if (QFile::exists(shots + "/perplexity.json")) {
      QVERIFY(openAndWait(panel, shots + "/perplexity.json"));
    }
    panel.resize(900, 420);
    QVERIFY(panel.grab().save(shots + "/eval_panel_perplexity.png"));
  }
}

void TestEvalPanel::badFileKeepsWhatWasShown() {
  EvalPanel panel;
  const std::string record = longBenchRecord("trec", "a", "full", fullParams(), 1.0).dump();
  QVERIFY(openAndWait(panel, writeFile(dir_, "good.jsonl", record + "\n")));
  QSignalSpy failed(&panel, &EvalPanel::openFailed);
  panel.openResults(writeFile(dir_, "bad.jsonl", "not json\n"));
  QVERIFY(failed.wait(kTimeoutMs));
  QCOMPARE(panel.data().records.size(), size_t(1));
  QVERIFY(child<QLabel>(panel, "evalSource")->text().contains("Cannot open"));
}

QTEST_MAIN(TestEvalPanel)
#include "test_eval_panel.moc"
