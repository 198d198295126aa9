// Paper style: the chosen perceptual map reaches the exported pixels (checked against
// matplotlib's published table values), the colour-bar label and font sizes reach the vector
// files, the on-screen plot is put back, and the style round-trips through QSettings and the
// export dialog.

#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include "qcustomplot_include.h"

#include "colour_maps.h"
#include "export_dialog.h"
#include "gui_test_util.h"
#include "heatmap_panel.h"
#include "main_window.h"
#include "paper_style.h"
#include "paper_style_editor.h"
#include "plot_exporter.h"

using namespace kvs::ui;

namespace {

// A colour map of one value over the whole axis rect, with a colour scale, as the heatmap has.
struct MapPlot {
  QCustomPlot plot;
  QCPColorMap* map;
  QCPColorScale* scale;
  explicit MapPlot(double value) {
    plot.resize(600, 400);
    map = new QCPColorMap(plot.xAxis, plot.yAxis);
    map->data()->setSize(8, 8);
    map->data()->setRange(QCPRange(0, 7), QCPRange(0, 7));
    for (int i = 0; i < 8; ++i) {
      for (int j = 0; j < 8; ++j) map->data()->setCell(i, j, value);
    }
    scale = new QCPColorScale(&plot);
    plot.plotLayout()->addElement(0, 1, scale);
    map->setColorScale(scale);
    scale->setDataRange(QCPRange(0, 1));
    scale->setGradient(colourMap("grayscale"));
    scale->axis()->setLabel("screen label");
    plot.xAxis->setLabel("key token");
    plot.rescaleAxes();
    plot.replot();
  }
};

QColor rgbF(double r, double g, double b) {
  return QColor::fromRgbF(float(r), float(g), float(b));
}

// The pixel at the middle of the plot (inside the axis rect) is within 3 levels of `expected`.
bool centreIs(const QString& png, const QColor& expected, QString* got) {
  const QImage image(png);
  const QColor c = image.pixelColor(image.width() * 2 / 5, image.height() / 2);
  *got = c.name();
  return std::abs(c.red() - expected.red()) <= 3 && std::abs(c.green() - expected.green()) <= 3 &&
         std::abs(c.blue() - expected.blue()) <= 3;
}

PaperStyle testStyle() {
  PaperStyle s;
  s.enabled = true;
  s.fontFamily = QStringLiteral("DejaVu Serif");
  s.tickPt = 7;
  s.labelPt = 13;
  s.titlePt = 15;
  s.colourMap = QStringLiteral("cividis");
  s.colourBarLabel = QStringLiteral("key cosine similarity");
  s.lineWidth = 2.5;
  return s;
}

}  // namespace

class TestPaperStyle : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void pngUsesTheChosenMap();
  void vectorFilesCarryLabelAndFontSize();
  void settingsRoundTrip();
  void heatmapExportUsesTheStyle();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestPaperStyle::initTestCase() {
  QVERIFY(dir_.isValid());
  const QString problem = test::isolateSettings(
      settingsDir_, QStringLiteral("KV Studio paper style test"), /*needsModel=*/false);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestPaperStyle::pngUsesTheChosenMap() {
  // matplotlib's tables at 0.5 (row 128) and 0.25 (row 64).
  const QList<std::tuple<QString, double, QColor>> cases = {
      {"viridis", 0.5, rgbF(0.127568, 0.566949, 0.550556)},
      {"cividis", 0.5, rgbF(0.488697, 0.485318, 0.471008)},
      {"viridis", 0.25, rgbF(0.229739, 0.322361, 0.545706)},
      {"cividis", 0.25, rgbF(0.263738, 0.307831, 0.422789)},
      {"grayscale", 0.25, rgbF(0.25, 0.25, 0.25)}};
  for (const auto& [name, value, expected] : cases) {
    MapPlot m(value);
    ExportRequest r;
    r.path = dir_.filePath(QStringLiteral("%1_%2.png").arg(name).arg(value));
    r.width = 600;
    r.height = 400;
    r.dpi = 96;
    r.style = testStyle();
    r.style.colourMap = name;
    QCOMPARE(exportPlot(&m.plot, r, "x\n", {}), QString());
    QString got;
    QVERIFY2(
        centreIs(r.path, expected, &got),
        qPrintable(
            QString("%1 at %2: %3, expected %4").arg(name).arg(value).arg(got, expected.name())));
    // The on-screen plot is put back as it was.
    QCOMPARE(m.scale->gradient(), colourMap("grayscale"));
    QCOMPARE(m.map->gradient(), colourMap("grayscale"));
    QCOMPARE(m.scale->axis()->label(), QStringLiteral("screen label"));
  }
  // Without the style the export keeps the screen's map.
  MapPlot m(0.5);
  ExportRequest plain;
  plain.path = dir_.filePath("plain.png");
  plain.width = 600;
  plain.height = 400;
  plain.dpi = 96;
  QCOMPARE(exportPlot(&m.plot, plain, "x\n", {}), QString());
  QString got;
  QVERIFY2(centreIs(plain.path, rgbF(0.5, 0.5, 0.5), &got), qPrintable(got));
}

void TestPaperStyle::vectorFilesCarryLabelAndFontSize() {
  MapPlot m(0.5);
  const QFont screenFont = m.plot.xAxis->labelFont();
  ExportRequest r;
  r.path = dir_.filePath("styled.svg");
  r.format = ExportRequest::Format::kSvg;
  r.style = testStyle();
  QCOMPARE(exportPlot(&m.plot, r, "x\n", {}), QString());
  QFile svg(r.path);
  QVERIFY(svg.open(QIODevice::ReadOnly));
  const QString text = QString::fromUtf8(svg.readAll());
  QVERIFY(text.contains("key cosine similarity"));
  QVERIFY(!text.contains("screen label"));
  QVERIFY(text.contains("DejaVu Serif"));
  // The colour-bar and axis labels in 13 pt, the tick labels in 7 pt (Qt writes 7.05). The SVG is
  // laid out at 96 units per inch, as the PDF and PNG: 13 pt is 17.33 units, 7 pt 9.33 (or 9.4).
  const QRegularExpression label13(
      "font-family=\"DejaVu Serif\" font-size=\"17\\.33\\d*\"[^>]*>key cosine similarity<");
  QVERIFY2(text.contains(label13), "the colour-bar label is not in 13 pt DejaVu Serif");
  QVERIFY(text.contains(QRegularExpression("font-size=\"17\\.33\\d*\"[^>]*>key token<")));
  const QRegularExpression tick7("font-family=\"DejaVu Serif\" font-size=\"9\\.[34]\\d*\"");
  QVERIFY2(text.contains(tick7), "no 7 pt tick labels");
  // The same plot exported without the style has neither.
  ExportRequest screen = r;
  screen.path = dir_.filePath("screen.svg");
  screen.style.enabled = false;
  QCOMPARE(exportPlot(&m.plot, screen, "x\n", {}), QString());
  QFile screenSvg(screen.path);
  QVERIFY(screenSvg.open(QIODevice::ReadOnly));
  const QString screenText = QString::fromUtf8(screenSvg.readAll());
  QVERIFY(screenText.contains(">screen label<"));
  QVERIFY(!screenText.contains("DejaVu Serif"));
  QCOMPARE(m.plot.xAxis->labelFont(), screenFont);
  QFile sidecar(dir_.filePath("styled.json"));
  QVERIFY(sidecar.open(QIODevice::ReadOnly));
  const QJsonObject meta = QJsonDocument::fromJson(sidecar.readAll()).object();
  QCOMPARE(meta["paper_style"]["colour_map"].toString(), QStringLiteral("cividis"));
  QCOMPARE(meta["paper_style"]["label_pt"].toInt(), 13);

  r.path = dir_.filePath("styled.pdf");
  r.format = ExportRequest::Format::kPdf;
  QCOMPARE(exportPlot(&m.plot, r, "x\n", {}), QString());
  const QString gs = QStandardPaths::findExecutable("gs");
  if (gs.isEmpty()) QSKIP("no Ghostscript (gs) to read the PDF's text");
  // txtwrite's XML names each text span's font size.
  QProcess p;
  p.start(gs, {"-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=txtwrite", "-dTextFormat=0",
               "-sOutputFile=-", r.path});
  QVERIFY(p.waitForFinished(60000));
  const QString xml = QString::fromUtf8(p.readAllStandardOutput());
  // One span per glyph run: join the characters of each font size.
  QMap<QString, QString> textBySize;
  QString size;
  static const QRegularExpression token("size=\"([0-9.]+)\"|<char [^>]*c=\"([^\"]*)\"");
  for (auto it = token.globalMatch(xml); it.hasNext();) {
    const auto m = it.next();
    if (m.capturedLength(1) > 0) {
      size = m.captured(1);
    } else {
      textBySize[size] += m.captured(2);
    }
  }
  // The PDF's page is the figure's size: a 13 pt label is 13 points there, 7 pt ticks 7.
  QString labelSize, tickSize;
  for (auto it = textBySize.cbegin(); it != textBySize.cend(); ++it) {
    const QString text = QString(it.value()).replace("&#x9;", " ");
    if (text.contains("key cosine similarity")) labelSize = it.key();
    if (text.contains("0.20.4")) tickSize = it.key();  // the colour bar's ticks 0, 0.2, 0.4
  }
  QVERIFY2(!labelSize.isEmpty(), qPrintable(xml.left(3000)));
  QCOMPARE(qRound(labelSize.toDouble()), 13);
  QCOMPARE(qRound(tickSize.toDouble()), 7);
}

void TestPaperStyle::settingsRoundTrip() {
  QSettings settings;
  QCOMPARE(PaperStyle::load(settings), PaperStyle{});  // nothing saved yet: the defaults
  const PaperStyle s = testStyle();
  s.save(settings);
  settings.sync();
  QCOMPARE(PaperStyle::load(QSettings()), s);
  // The export dialog starts from the saved style and saves what is accepted.
  ExportDialog dialog(dir_.filePath("figure.png"));
  QCOMPARE(dialog.request().style, s);
  auto* map = dialog.findChild<QComboBox*>("paperColourMap");
  QVERIFY(map);
  map->setCurrentIndex(map->findData(QStringLiteral("grayscale")));
  QCOMPARE(dialog.request().style.colourMap, QStringLiteral("grayscale"));
  dialog.show();
  QTest::keyClick(&dialog, Qt::Key_Return);  // OK
  QCOMPARE(PaperStyle::load(QSettings()).colourMap, QStringLiteral("grayscale"));
}

// The heatmap of a real prompt: the lowest cosine is drawn in the style's map (cividis at 0), not
// the screen's (viridis), and the heatmap on screen keeps its map and label.
void TestPaperStyle::heatmapExportUsesTheStyle() {
  using kvs::ui::test::kModel;
  using kvs::ui::test::kTimeoutMs;
  QSettings().remove("paperStyle");
  MainWindow w(kModel);
  w.show();
  w.heatmap()->setColourMapName("viridis");
  QVERIFY(kvs::ui::test::runPrompt(w, 120));
  QTRY_VERIFY_WITH_TIMEOUT(w.heatmap()->colourMap()->data()->keySize() > 1, kTimeoutMs);
  ExportRequest r;
  r.path = dir_.filePath("heatmap.png");
  r.width = 800;
  r.height = 700;
  r.dpi = 96;
  r.style = testStyle();
  QCOMPARE(w.exportView("heatmap", r), QString());
  const QImage image(r.path);
  const auto count = [](const QImage& image, const QColor& c) {
    int n = 0;
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) {
        const QColor p = image.pixelColor(x, y);
        n += std::abs(p.red() - c.red()) <= 3 && std::abs(p.green() - c.green()) <= 3 &&
             std::abs(p.blue() - c.blue()) <= 3;
      }
    }
    return n;
  };
  const QColor cividis0 = rgbF(0.0, 0.135112, 0.304751),
               viridis0 = rgbF(0.267004, 0.004874, 0.329415);
  QVERIFY2(count(image, cividis0) > 20, "the lowest cell is not in cividis");
  QCOMPARE(count(image, viridis0), 0);
  QFile sidecar(dir_.filePath("heatmap.json"));
  QVERIFY(sidecar.open(QIODevice::ReadOnly));
  QCOMPARE(QJsonDocument::fromJson(sidecar.readAll())["paper_style"]["colour_map"].toString(),
           QStringLiteral("cividis"));
  QCOMPARE(w.heatmap()->colourMapName(), QStringLiteral("viridis"));
  QCOMPARE(w.heatmap()->colourMap()->gradient(), colourMap("viridis"));
  // The same export without the style draws the screen's map.
  r.style.enabled = false;
  r.path = dir_.filePath("heatmap_screen.png");
  QCOMPARE(w.exportView("heatmap", r), QString());
  const QImage screen(r.path);
  QVERIFY(count(screen, viridis0) > 20);
  QCOMPARE(count(screen, cividis0), 0);
}

QTEST_MAIN(TestPaperStyle)
#include "test_paper_style.moc"
