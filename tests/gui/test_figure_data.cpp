// What comes with an exported heatmap, and what the heatmap says about itself: one sidecar for a
// base name exported in several formats (listing each file), the sampling seed apart from the
// method's parameters, the font actually drawn; the CSV with each token's piece, set, pivot and
// fate; the tooltip naming a cell's value and both tokens; the line naming whose sets are drawn
// after a Compare row is chosen; and the dialog offering a square heatmap in inches.

#include <QDir>
#include <QFile>
#include <QFontInfo>
#include <QHelpEvent>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QToolTip>

#include "export_sidecar.h"
#include "figure_test_util.h"
#include "gui_test_util.h"
#include "main_window.h"
#include "parameters_panel.h"
#include "session_controller.h"

using namespace kvs::ui;
using namespace kvs::ui::test;
using S = SyntheticHeatmap;

namespace {

QJsonObject readJson(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(f.readAll()).object()
                                     : QJsonObject();
}

// The pixel of token (query, key)'s centre on the panel's plot.
QPointF cellPixel(const HeatmapPanel& panel, int query, int key) {
  return {panel.plot()->xAxis->coordToPixel(key), panel.plot()->yAxis->coordToPixel(query)};
}

}  // namespace

class TestFigureData : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void oneSidecarListsEveryFormat();
  void sidecarSeedIsTheSamplers();
  void csvCarriesTokensAndFates();
  void hoverShowsValueAndTokens();
  void plotNamesTheVariantShown();
  void dialogOffersASquareHeatmapInInches();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestFigureData::initTestCase() {
  QVERIFY(dir_.isValid());
  const QString problem =
      isolateSettings(settingsDir_, QStringLiteral("KV Studio figure data test"), false);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestFigureData::oneSidecarListsEveryFormat() {
  S h;
  for (const char* suffix : {"png", "pdf", "svg"}) {
    QCOMPARE(h.exportAs(dir_.filePath(QStringLiteral("fig.%1").arg(suffix)), 3.5, 3.5), QString());
  }
  QCOMPARE(h.exportAs(dir_.filePath("fig.png"), 7, 5), QString());  // the PNG again, larger
  const QJsonObject meta = readJson(dir_.filePath("fig.json"));
  const QJsonArray files = meta["files"].toArray();
  QCOMPARE(files.size(), 3);
  QCOMPARE(files[0]["file"].toString(), QStringLiteral("fig.pdf"));
  QCOMPARE(files[0]["page_points"].toArray(), (QJsonArray{252, 252}));
  QCOMPARE(files[1]["file"].toString(), QStringLiteral("fig.svg"));
  QCOMPARE(files[2]["file"].toString(), QStringLiteral("fig.png"));
  QCOMPARE(files[2]["pixels"].toArray(), (QJsonArray{2100, 1500}));
  QCOMPARE(files[2]["dpi"].toInt(), 300);
  QCOMPARE(files[2]["unit"].toString(), QStringLiteral("in"));
  // Another figure under the same name starts the list again.
  h.panel->select(0, -1);  // the mean over heads
  QCOMPARE(h.exportAs(dir_.filePath("fig.pdf"), 3.5, 3.5), QString());
  QCOMPARE(readJson(dir_.filePath("fig.json"))["files"].toArray().size(), 1);

  // The font recorded is the one drawn: a family that is not installed is named as the one the
  // font database put in its place, in the style's sizes.
  ExportRequest r;
  r.path = dir_.filePath("styled.pdf");
  r.format = ExportRequest::Format::kPdf;
  r.unit = ExportRequest::Unit::kInches;
  r.width = r.height = 3.5;
  r.style.enabled = true;
  r.style.fontFamily = QStringLiteral("No Such Font Family");
  r.style.tickPt = 7;
  QCOMPARE(h.exports.exportFigure("heatmap", r), QString());
  const QJsonObject fonts = readJson(dir_.filePath("styled.json"))["fonts"].toObject();
  const QString drawn = QFontInfo(QFont(r.style.fontFamily)).family();
  QVERIFY(drawn != r.style.fontFamily);
  QCOMPARE(fonts["tick_labels"]["family"].toString(), drawn);
  QCOMPARE(fonts["tick_labels"]["pt"].toDouble(), 7.0);
}

// The sampler's seed is a number under "sampling"; "params" holds only the method's own (CaM's
// seed of its Bernoulli draws), so the two no longer read as one seed with two values.
void TestFigureData::sidecarSeedIsTheSamplers() {
  PromptInfo prompt;
  GenerationJob job;
  job.seed = 42;
  kvs::CompressionParams cam;
  cam.method = "cam";
  cam.seed = 7;
  const QJsonObject meta = exportSidecar(prompt, job, cam, {});
  QVERIFY(!meta.contains("seed"));
  QCOMPARE(meta["sampling"]["seed"].toInteger(), 42);
  QCOMPARE(meta["params"]["seed"].toInteger(), 7);
  QCOMPARE(meta["params"]["method"].toString(), QStringLiteral("cam"));
}

void TestFigureData::csvCarriesTokensAndFates() {
  S h(60);
  QCOMPARE(h.exportAs(dir_.filePath("tokens.png"), 3.5, 3.5), QString());
  QFile file(dir_.filePath("tokens.csv"));
  QVERIFY(file.open(QIODevice::ReadOnly));
  const QList<QByteArray> rows = file.readAll().trimmed().split('\n');
  QCOMPARE(rows.size(), 61);
  QVERIFY(rows[0].startsWith("token,piece,set_first,set_last,pivot,fate,0,1,2,"));
  const auto row = [&](int t) { return QString::fromUtf8(rows[t + 1]).split(','); };
  QCOMPARE(row(S::kPivot).mid(0, 6),
           (QStringList{"15", "\"t15\"", "10", "19", "15", QStringLiteral("pivot")}));
  QCOMPARE(row(12).mid(0, 6), (QStringList{"12", "\"t12\"", "10", "19", "15", "merged"}));
  QCOMPARE(row(S::kProtected[0])[5], QStringLiteral("protected"));
  QCOMPARE(row(55).mid(2, 4), (QStringList{"", "", "", "evicted"}));
  QCOMPARE(row(3).mid(2, 4), (QStringList{"3", "3", "3", "kept"}));
  QCOMPARE(row(3).size(), 6 + 60);
  QCOMPARE(row(3)[6 + 4].toDouble(), 1.0);  // (3 + 4) % 2
}

void TestFigureData::hoverShowsValueAndTokens() {
  S h(60);
  HeatmapPanel& panel = *h.panel;
  const QString tip = panel.toolTipAt(cellPixel(panel, 40, 12));
  QVERIFY2(tip.contains(QStringLiteral("query 40 \u201ct40\u201d")), qPrintable(tip));
  QVERIFY2(
      tip.contains(QStringLiteral("key 12 \u201ct12\u201d: merged of set 10\u201319 (pivot 15)")),
      qPrintable(tip));
  QVERIFY2(tip.contains(QStringLiteral("cosine similarity 0.0000")), qPrintable(tip));
  QVERIFY(panel.toolTipAt(cellPixel(panel, 40, 13)).contains("cosine similarity 1.0000"));
  QVERIFY(panel.toolTipAt(QPointF(1, 1)).isEmpty());  // outside the matrix
  // As a tooltip event reaches the plot.
  const QPoint at = cellPixel(panel, 40, 12).toPoint();
  QHelpEvent event(QEvent::ToolTip, at, panel.plot()->mapToGlobal(at));
  QCoreApplication::sendEvent(panel.plot(), &event);
  QCOMPARE(QToolTip::text(), tip);
}

// After a click on a Compare row the heatmap draws that variant's sets while Parameters shows
// another setting: the line above the plot says which, and the sidecar records it.
void TestFigureData::plotNamesTheVariantShown() {
  if (!QFile::exists(kModel)) QSKIP("no stories260K model");
  MainWindow w(kModel);
  w.show();
  QVERIFY(runPrompt(w, 120));
  HeatmapPanel* heatmap = w.heatmap();
  QTRY_VERIFY_WITH_TIMEOUT(!heatmap->variantText().isEmpty(), kTimeoutMs);
  QVERIFY2(heatmap->variantText().contains("(the Parameters setting)"),
           qPrintable(heatmap->variantText()));
  QVERIFY(!heatmap->showsOtherSetting());
  kvs::CompressionParams h2o = w.parameters()->params();
  h2o.method = "h2o";
  h2o.budget = 0.3;
  w.controller()->previewLayout(h2o);  // what a click on a Compare row of H2O does
  QTRY_VERIFY_WITH_TIMEOUT(heatmap->showsOtherSetting(), kTimeoutMs);
  const QString text = heatmap->variantText();
  QVERIFY2(text.contains("h2o, budget 0.30") && text.contains("not the Parameters setting"),
           qPrintable(text));
  auto* label = heatmap->plot()->findChild<QCPTextElement*>("heatmapVariant");
  QVERIFY(label);
  QCOMPARE(label->text(), text);
  const QJsonObject sets = heatmap->viewJson()["sets"].toObject();
  QCOMPARE(sets["params"]["method"].toString(), QStringLiteral("h2o"));
  QCOMPARE(sets["from"].toString(), QStringLiteral("a compared variant"));
  QVERIFY(heatmap->titleText().endsWith("h2o, budget 0.30"));
}

void TestFigureData::dialogOffersASquareHeatmapInInches() {
  S h;
  const ExportRequest r = h.exports.lastRequest("heatmap");
  QCOMPARE(r.unit, ExportRequest::Unit::kInches);
  QCOMPARE(r.width, 3.5);
  QCOMPARE(r.height, 3.5);
  QCOMPARE(r.dpi, 300);
  QVERIFY(r.legend);
}

QTEST_MAIN(TestFigureData)
#include "test_figure_data.moc"
