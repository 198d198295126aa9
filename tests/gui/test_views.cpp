// The views around the heatmap, offscreen on stories260K: figure export (PNG, PDF, SVG with CSV
// and JSON sidecar), token fates (table model and output colours), the overview, and the Compare
// view.

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSemaphore>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSvgRenderer>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTextEdit>
#include <atomic>
#include "qcustomplot_include.h"

#include "compare_panel.h"
#include "compare_table_model.h"
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

class TestViews : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void exportWritesFiguresDataAndSidecar();
  void tokensShowWhatHappenedToThem();
  void overviewSelectsHeadsAndDrawsEps();
  void compareMeasuresVariantsAgainstTheFullCache();

 private:
  QTemporaryDir settingsDir_;
};

void TestViews::initTestCase() {
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio views test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestViews::exportWritesFiguresDataAndSidecar() {
  MainWindow w(kModel);
  w.show();
  kvs::CompressionParams p = approximateBudget();
  p.eps = 0.66;
  w.parameters()->setParams(p);
  QVERIFY(runPrompt(w, 120));
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmap()->colourMap()->data()->keySize() > 1, kTimeoutMs);
  // The memory panel shows the compressed cache below the full one.
  const QCPBars* bars = w.memory()->compressedBars();
  QCOMPARE(bars->data()->size(), 5);  // stories260K's layers
  QVERIFY(w.memory()->compressedSteps()->data()->size() > 1);
  QTemporaryDir dir;
  const int T = w.controller()->prompt().ids.size();
  const QList<QPair<QString, QByteArray>> figures = {
      {"heat.png", QByteArray("\x89PNG\r\n\x1a\n")}, {"heat.pdf", "%PDF-"}, {"heat.svg", ""}};
  for (const auto& [name, magic] : figures) {
    ExportRequest r;
    r.path = dir.filePath(name);
    r.format = formatForPath(r.path);
    r.width = 640;
    r.height = 480;
    r.dpi = 192;
    QCOMPARE(w.exportView("heatmap", r), QString());
    QFile figure(r.path);
    QVERIFY(figure.open(QIODevice::ReadOnly));
    const QByteArray bytes = figure.readAll();
    if (!magic.isEmpty()) QVERIFY2(bytes.startsWith(magic), qPrintable(name));
    // Pixels are the PNG's pixels (at 192 DPI: 3.33 x 2.5 inches); the SVG is laid out at 96
    // units per inch.
    if (name.endsWith("png")) QCOMPARE(QImageReader(r.path).size(), QSize(640, 480));
    if (name.endsWith("svg")) {
      QSvgRenderer svg(bytes);
      QVERIFY(svg.isValid());
      QCOMPARE(svg.viewBox(), QRect(0, 0, 320, 240));
    }
    QVERIFY(!QFile::exists(r.path + ".part"));
  }
  QFile csv(dir.filePath("heat.csv"));
  QVERIFY(csv.open(QIODevice::ReadOnly));
  const QList<QByteArray> rows = csv.readAll().trimmed().split('\n');
  QCOMPARE(rows.size(), T + 1);  // header + one row per token
  // token, piece, set_first, set_last, pivot, fate, then one column per token.
  QCOMPARE(rows[1].split(',').size(), T + 6);
  QCOMPARE(rows[3].split(',')[6 + 2].toDouble(), 1.0);  // token 2 with itself (float precision)
  QFile json(dir.filePath("heat.json"));
  QVERIFY(json.open(QIODevice::ReadOnly));
  const QJsonObject meta = QJsonDocument::fromJson(json.readAll()).object();
  QCOMPARE(meta["model"].toString(), QStringLiteral("stories260K.bin"));
  QCOMPARE(meta["params"].toObject()["eps"].toDouble(), 0.66);
  QCOMPARE(meta["params"].toObject()["method"].toString(), QStringLiteral("kvmerger"));
  QCOMPARE(meta["app_version"].toString(), QStringLiteral("0.1.0"));
  QCOMPARE(meta["prompt_token_ids"].toArray().size(), T);
  QCOMPARE(meta["sampling"]["seed"].toInt(), 42);  // a number, apart from the methods' "params"
  QCOMPARE(meta["view"].toObject()["source"].toString(), QStringLiteral("keys"));
  // The eps every head used: the one given, with the approximate budget the panel starts with.
  const QJsonObject decisions = meta["merging_decisions"].toObject();
  QCOMPARE(decisions["exact_budget"].toBool(), false);
  QCOMPARE(decisions["eps_used"].toArray().size(), 5);
  for (const QJsonValue& layer : decisions["eps_used"].toArray()) {
    QCOMPARE(layer.toArray().size(), 4);
    for (const QJsonValue& eps : layer.toArray()) QCOMPARE(eps.toDouble(), 0.66);
  }
  auto* decision = w.heatmap()->findChild<QLabel*>("mergeDecision");
  QVERIFY(decision);
  QCOMPARE(decision->text(), QStringLiteral("eps 0.6600 (approximate budget)"));

  ExportRequest mem;
  mem.path = dir.filePath("memory.svg");
  mem.format = ExportRequest::Format::kSvg;
  QCOMPARE(w.exportView("memory-layers", mem), QString());
  QVERIFY(QSvgRenderer(mem.path).isValid());
  QFile memCsv(dir.filePath("memory.csv"));
  QVERIFY(memCsv.open(QIODevice::ReadOnly));
  QVERIFY(memCsv.readAll().startsWith("series,index,compressed_bytes,full_bytes\nlayer,0,"));
  // Every layer in one go: one figure, CSV and sidecar per layer.
  ExportRequest all;
  all.path = dir.filePath("layers.png");
  QCOMPARE(w.exportView("heatmap-all", all), QString());
  for (int l = 0; l < 5; ++l) {
    QVERIFY(QFile::exists(dir.filePath(QString("layers_layer%1.png").arg(l))));
    QFile sidecar(dir.filePath(QString("layers_layer%1.json").arg(l)));
    QVERIFY(sidecar.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(sidecar.readAll())["view"]["layer"].toInt(), l);
  }
  // An exact budget: each head reports the eps searched for it instead of the one given.
  auto* exact = w.parameters()->findChild<QCheckBox*>("exactBudget");
  QVERIFY(exact);
  exact->setChecked(true);  // as a click: the setting applies at once
  QTRY_VERIFY_WITH_TIMEOUT(decision->text().contains("searched for the exact budget"), kTimeoutMs);
  const QJsonArray searched = w.heatmap()->decisionsJson()["eps_used"].toArray();
  QCOMPARE(searched.size(), 5);
  QVERIFY(searched[0].toArray()[0].toDouble() != 0.66);
  // A folder that does not exist: an error, and no figure.
  ExportRequest bad = mem;
  bad.path = dir.filePath("missing/figure.png");
  bad.format = ExportRequest::Format::kPng;
  QVERIFY(!w.exportView("heatmap", bad).isEmpty());
}

void TestViews::tokensShowWhatHappenedToThem() {
  MainWindow w(kModel);
  w.show();
  kvs::CompressionParams p = approximateBudget();
  p.eps = 0.3;
  w.parameters()->setParams(p);
  TokenTableModel* model = w.tokenModel();
  QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  QVERIFY(runPrompt(w, 100));
  w.heatmap()->select(1, 2);
  const PromptInfo& info = w.controller()->prompt();
  QTRY_COMPARE_WITH_TIMEOUT(model->rowCount(), int(info.ids.size()), kTimeoutMs);
  QCOMPARE(model->columnCount(), int(TokenTableModel::kColumns));
  // Every merged set of the drawn head shows up as a pivot and its members.
  const kvs::HeadLayout& head = w.controller()->layout().layout.heads[1][2];
  int merged = 0, protectedTokens = 0;
  for (const kvs::Slot& s : head.slots) {
    if (s.count < 2) continue;
    ++merged;
    QCOMPARE(model->index(s.pivot, TokenTableModel::kFate).data().toString(),
             QStringLiteral("pivot"));
    const int member = s.pivot == s.first ? s.last : s.first;
    QCOMPARE(model->index(member, TokenTableModel::kFate).data().toString(),
             QStringLiteral("merged"));
    QCOMPARE(model->index(member, TokenTableModel::kPivot).data().toInt(), s.pivot);
  }
  QVERIFY(merged > 0);
  for (char c : head.isProtected) protectedTokens += c;
  int protectedRows = 0;
  for (int r = 0; r < model->rowCount(); ++r) {
    protectedRows += model->index(r, TokenTableModel::kFate).data() == "protected";
  }
  QCOMPARE(protectedRows, protectedTokens);
  // The output's prompt tokens carry the same in their tooltips.
  const int t = head.slots.front().count > 1 ? head.slots.front().pivot : 3;
  const QString tip = w.output()->toolTipAt(info.charEnds[t] - 1);
  QVERIFY2(tip.startsWith(QString("token %1, id %2").arg(t).arg(info.ids[t])), qPrintable(tip));
  QVERIFY(tip.contains(model->index(t, TokenTableModel::kFate).data().toString()));
  // Other heads, other fates; H2O evicts.
  child<QComboBox>(w, "method")->setCurrentText("h2o");
  QTRY_VERIFY_WITH_TIMEOUT(
      [&] {
        for (int r = 0; r < model->rowCount(); ++r) {
          if (model->index(r, TokenTableModel::kFate).data() == "evicted") return true;
        }
        return false;
      }(),
      kTimeoutMs);
}

void TestViews::overviewSelectsHeadsAndDrawsEps() {
  MainWindow w(kModel);
  w.show();
  kvs::CompressionParams p = approximateBudget();
  p.eps = 0.7;
  w.parameters()->setParams(p);
  QVERIFY(runPrompt(w, 100));
  ThumbnailGrid* grid = w.overview()->grid();
  QTRY_COMPARE_WITH_TIMEOUT(grid->layers(), 5, kTimeoutMs);
  QCOMPARE(grid->heads(), 4);  // KV heads of stories260K
  // The selected layer's curves: one per KV head, T-1 points, and the eps line.
  QCustomPlot* curves = w.overview()->curvePlot();
  const int T = w.controller()->prompt().ids.size();
  QTRY_COMPARE_WITH_TIMEOUT(curves->graphCount(), 4, kTimeoutMs);
  QCOMPARE(curves->graph(0)->data()->size(), T - 1);
  QCOMPARE(w.overview()->epsLine(), 0.7);
  // A click on a thumbnail selects that layer and head in the heatmap.
  grid->resize(400, 500);
  QTest::mouseClick(grid, Qt::LeftButton, {}, grid->cellRect(3, 2).center());
  QCOMPARE(w.heatmap()->layer(), 3);
  QCOMPARE(w.heatmap()->head(), 2);
  child<QDoubleSpinBox>(w, "eps")->setValue(0.55);
  QTRY_COMPARE_WITH_TIMEOUT(w.overview()->epsLine(), 0.55, kTimeoutMs);
  // Thumbnails follow the heatmap's source: attention has a thumbnail per query head.
  child<QComboBox>(w, "heatmapSource")->setCurrentIndex(3);
  QTRY_COMPARE_WITH_TIMEOUT(grid->heads(), 8, kTimeoutMs);
}

void TestViews::compareMeasuresVariantsAgainstTheFullCache() {
  MainWindow w(kModel);
  w.show();
  w.parameters()->setParams(ParametersPanel::defaults());
  CompareTableModel* model = w.compare()->model();
  QAbstractItemModelTester tester(model, QAbstractItemModelTester::FailureReportingMode::QtTest);
  QVERIFY(runPrompt(w, 160));
  auto* add = child<QPushButton>(w, "compareAdd");
  add->click();  // KVMerger, eps 0.75
  child<QComboBox>(w, "method")->setCurrentText("h2o");
  add->click();
  child<QDoubleSpinBox>(w, "budget")->setValue(1.0);  // H2O keeping everything: lossless
  add->click();
  QCOMPARE(model->rowCount(), 3);
  QCOMPARE(model->index(1, CompareTableModel::kMethod).data().toString(), QStringLiteral("h2o"));
  QTRY_VERIFY_WITH_TIMEOUT(!w.controller()->busy(), kTimeoutMs);
  QSignalSpy compared(w.controller(), &SessionController::compareReady);
  child<QPushButton>(w, "compareRun")->click();
  QTRY_COMPARE_WITH_TIMEOUT(compared.count(), 1, kTimeoutMs);
  QCOMPARE(model->rowCount(), 4);  // the full cache first
  QCOMPARE(model->index(0, CompareTableModel::kMethod).data().toString(), QStringLiteral("full"));
  QCOMPARE(model->index(0, CompareTableModel::kTop1).data().toDouble(), 1.0);
  QCOMPARE(model->index(3, CompareTableModel::kMeanKl).data().toDouble(), 0.0);  // lossless
  QCOMPARE(model->index(3, CompareTableModel::kTop1).data().toDouble(), 1.0);
  const CompareResult& r = model->result();
  QVERIFY(r.rows[1].kvBytes < r.rows[0].kvBytes);  // compressed: fewer bytes held
  QVERIFY(!r.rows[3].differs.contains(true));
  // The full cache's compare text is the run's greedy continuation (compare does not stop at
  // the end of the text, so it may run on).
  const QString reference =
      child<QPlainTextEdit>(w, "referenceOutput")->toPlainText().mid(kPrompt.size());
  QVERIFY(reference.size() > 20);
  QVERIFY(r.rows[0].chunks.join(QString()).startsWith(reference.left(20)));
  // Differences are highlighted in the text view when there are any.
  w.compare()->showRow(1);
  const bool differs = r.rows[1].differs.contains(true);
  QCOMPARE(w.compare()->textView()->toHtml().contains("#ffc870"), differs);
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
  // Memory bars per row, and a row's merging sets on the heatmap when it is chosen.
  QCOMPARE(w.compare()->memoryBars()->data()->size(), 4);
  QCOMPARE(w.compare()->memoryBars()->data()->at(1)->value, r.rows[1].kvBytes / 1024.0);
  auto* table = child<QTableView>(w, "compareTable");
  QSignalSpy layouts(w.controller(), &SessionController::layoutReady);
  QTest::mouseClick(table->viewport(), Qt::LeftButton, {},
                    table->visualRect(model->index(2, 0)).center());  // h2o: evicts
  QTRY_COMPARE_WITH_TIMEOUT(layouts.count(), 1, kTimeoutMs);
  QCOMPARE(layouts.first().first().value<LayoutResult>().params.method, std::string("h2o"));
  QVERIFY(w.heatmap()->overlay()->evictedCount() > 0);
}

QTEST_MAIN(TestViews)
#include "test_views.moc"
