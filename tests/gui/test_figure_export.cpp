// Exported heatmaps as a journal gets them, read back with Ghostscript: the page is the size asked
// for, the cells are full-size to the matrix's edges (not the half cells QCPColorMap draws at the
// ends), lossless (one image pixel per cell, no JPEG; rectangles for a few cells), the marks
// (pivot, protected, evicted, set) are there at 3.5 x 3.5 and 7 x 5 inches and grow with the
// figure, the data area is square, and the title and legend are options. A large PNG is encoded
// while the GUI keeps serving events. With KVS_FIGURE_DIR set, a real run's figure is left there.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImageReader>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include "figure_test_util.h"
#include "gui_test_util.h"
#include "heatmap_cells.h"
#include "main_window.h"
#include "merging_sets_item.h"

using namespace kvs::ui;
using namespace kvs::ui::test;
using S = SyntheticHeatmap;

namespace {

constexpr int kRenderDpi = 300;

// viridis at 0 and 1, the checkerboard's two colours.
enum class Cell { kOther, kLow, kHigh };
Cell cellAt(const QImage& image, int x, int y) {
  const QColor c = image.pixelColor(x, y);
  const auto near = [&](int r, int g, int b) {
    return std::abs(c.red() - r) + std::abs(c.green() - g) + std::abs(c.blue() - b) < 60;
  };
  if (near(68, 1, 84)) return Cell::kLow;
  if (near(253, 231, 37)) return Cell::kHigh;
  return Cell::kOther;
}

// The matrix on a rendered page: the first block of columns (then of rows) where cells dominate
// (the colour bar right of it matches the two colours only at its ends).
QRect findMatrix(const QImage& image) {
  const auto block = [](const std::vector<int>& counts, int least) {
    int first = -1, last = -1;
    for (int i = 0; i < int(counts.size()); ++i) {
      if (counts[i] >= least) {
        if (first < 0) first = i;
        last = i;
      } else if (first >= 0) {
        break;
      }
    }
    return std::make_pair(first, last);
  };
  std::vector<int> columns(image.width()), rows(image.height());
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) columns[x] += cellAt(image, x, y) != Cell::kOther;
  }
  const auto [x0, x1] = block(columns, image.height() / 4);
  for (int y = 0; y < image.height(); ++y) {
    for (int x = std::max(0, x0); x <= x1; ++x) rows[y] += cellAt(image, x, y) != Cell::kOther;
  }
  const auto [y0, y1] = block(rows, (x1 - x0) / 4);
  return QRect(QPoint(x0, y0), QPoint(x1, y1));
}

// The lengths of the runs of one cell colour along a line of pixels.
std::vector<int> runs(const QImage& image, QPoint from, QPoint step, int count) {
  std::vector<int> lengths;
  Cell current = Cell::kOther;
  for (int i = 0; i < count; ++i) {
    const QPoint p = from + step * i;
    const Cell c = cellAt(image, p.x(), p.y());
    if (c != Cell::kOther && c == current) {
      ++lengths.back();
    } else if (c != Cell::kOther) {
      lengths.push_back(1);
    }
    current = c;
  }
  return lengths;
}

// Whether a pixel within `reach` of (x, y) satisfies `is`.
template <typename F>
bool near(const QImage& image, double x, double y, int reach, F is) {
  for (int dy = -reach; dy <= reach; ++dy) {
    for (int dx = -reach; dx <= reach; ++dx) {
      if (is(image.pixelColor(int(x) + dx, int(y) + dy))) return true;
    }
  }
  return false;
}

bool red(const QColor& c) {
  return c.red() > 190 && c.green() < 90 && c.blue() < 90;
}
bool white(const QColor& c) {
  return c.red() > 225 && c.green() > 225 && c.blue() > 225;
}
bool darkGrey(const QColor& c) {
  return c.red() < 90 && std::abs(c.red() - c.green()) < 20 && std::abs(c.green() - c.blue()) < 20;
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

}  // namespace

class TestFigureExport : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void sizesMeanWhatTheySay();
  void cellsAreLosslessAndFullToTheEdges_data();
  void cellsAreLosslessAndFullToTheEdges();
  void marksAppearAtEverySize();
  void titleAndLegendAreOptions();
  void largeExportsKeepTheGuiServed();
  void realRunFigure();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestFigureExport::initTestCase() {
  QVERIFY(dir_.isValid());
  const QString problem =
      isolateSettings(settingsDir_, QStringLiteral("KV Studio figure test"), /*needsModel=*/false);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// 3.5 x 3.5 inches at 300 DPI is 1050 x 1050 pixels (was 3.5 x 3.5 "pixels" times 300 / 96), in
// cm the same, pixels are pixels; a PDF or SVG page is the size asked for (was 16.7 x 12.5 inches
// for 1200 x 900).
void TestFigureExport::sizesMeanWhatTheySay() {
  S h;
  QCOMPARE(h.exportAs(dir_.filePath("in.png"), 3.5, 3.5), QString());
  QImageReader png(dir_.filePath("in.png"));
  QCOMPARE(png.size(), QSize(1050, 1050));
  QCOMPARE(qRound(png.read().dotsPerMeterX() * 0.0254), 300);
  ExportRequest cm;
  cm.path = dir_.filePath("cm.png");
  cm.unit = ExportRequest::Unit::kCm;
  cm.width = 8.89;
  cm.height = 6.35;
  QCOMPARE(h.exports.exportFigure("heatmap", cm), QString());
  QCOMPARE(QImageReader(cm.path).size(), QSize(1050, 750));
  ExportRequest px = cm;
  px.path = dir_.filePath("px.png");
  px.unit = ExportRequest::Unit::kPixels;
  px.width = 1200;
  px.height = 900;
  QCOMPARE(h.exports.exportFigure("heatmap", px), QString());
  QCOMPARE(QImageReader(px.path).size(), QSize(1200, 900));
  px.path = dir_.filePath("px.pdf");
  px.format = ExportRequest::Format::kPdf;
  QCOMPARE(h.exports.exportFigure("heatmap", px), QString());
  QVERIFY(readAll(px.path).contains("/MediaBox [0 0 288.000000 216.000000]"));  // 4 x 3 inches
  QCOMPARE(h.exportAs(dir_.filePath("page.pdf"), 7, 5), QString());
  QVERIFY(readAll(dir_.filePath("page.pdf")).contains("/MediaBox [0 0 504.000000 360.000000]"));
  QCOMPARE(h.exportAs(dir_.filePath("page.svg"), 3.5, 2.5), QString());
  QVERIFY(readAll(dir_.filePath("page.svg")).contains("width=\"88.900mm\" height=\"63.500mm\""));
}

void TestFigureExport::cellsAreLosslessAndFullToTheEdges_data() {
  QTest::addColumn<int>("tokens");
  QTest::addColumn<double>("width");
  QTest::addColumn<double>("height");
  QTest::newRow("image cells, 3.5 x 3.5 in") << 120 << 3.5 << 3.5;
  QTest::newRow("image cells, 7 x 5 in") << 120 << 7.0 << 5.0;
  QTest::newRow("vector cells, 3.5 x 3.5 in") << 40 << 3.5 << 3.5;
}

void TestFigureExport::cellsAreLosslessAndFullToTheEdges() {
  QFETCH(int, tokens);
  QFETCH(double, width);
  QFETCH(double, height);
  S h(tokens);
  const QString pdf = dir_.filePath(QStringLiteral("cells%1_%2.pdf").arg(tokens).arg(width));
  QCOMPARE(h.exportAs(pdf, width, height), QString());
  const QByteArray bytes = readAll(pdf);
  QVERIFY2(!bytes.contains("/DCTDecode"), "an image in the PDF is JPEG");
  // One image pixel per cell, or (few cells) no image of the matrix at all.
  const QByteArray matrixImage = QStringLiteral("/Width %1\n/Height %1").arg(tokens).toLatin1();
  QCOMPARE(bytes.contains(matrixImage), tokens > HeatmapCells::kMaxVectorCells);
  // The same in SVG: the cells' PNG is tokens x tokens, drawn without smoothing.
  const QString svgPath = dir_.filePath(QStringLiteral("cells%1.svg").arg(tokens));
  QCOMPARE(h.exportAs(svgPath, width, height), QString());
  const QString svg = QString::fromUtf8(readAll(svgPath));
  static const QRegularExpression image(
      "<image style=\"image-rendering:pixelated\"[^>]*base64,([A-Za-z0-9+/=]+)");
  bool cellsImage = false;
  for (auto it = image.globalMatch(svg); it.hasNext();) {
    const QImage embedded =
        QImage::fromData(QByteArray::fromBase64(it.next().captured(1).toLatin1()));
    cellsImage = cellsImage || embedded.size() == QSize(tokens, tokens);
  }
  QCOMPARE(cellsImage, tokens > HeatmapCells::kMaxVectorCells);

  if (ghostscript().isEmpty()) QSKIP("no Ghostscript (gs) to render the PDF");
  constexpr int kDpi = 600;
  const QImage page = renderPdf(pdf, kDpi);
  QVERIFY(!page.isNull());
  const QRect m = findMatrix(page);
  QVERIFY2(m.width() > 100, qPrintable(QString("matrix %1 px wide").arg(m.width())));
  // Square cells: the data area is square on any page.
  QVERIFY2(std::abs(m.width() - m.height()) <= 3,
           qPrintable(QString("%1 x %2").arg(m.width()).arg(m.height())));
  // The axis frame (1/96 inch wide) is centred on the matrix's edge and covers half its width of
  // the outer cells.
  const double frame = 0.5 * kDpi / kLayoutDpi;
  const double cell = (m.width() + 2 * frame) / tokens;
  // Along row 25 and down column 25 (off the marks): every cell, the first and last included,
  // is a whole cell wide (the outer ones less the frame), and the matrix meets the axis frame
  // with no blank band. Half-size outer cells would show half a cell (4.7 px or more) less; 2 px
  // allow for rounding and the rectangles' overlap.
  const int row = m.top() + int((25.5) * cell), column = m.left() + int(25.5 * cell);
  const std::vector<int> across = runs(page, {m.left(), row}, {1, 0}, m.width());
  const std::vector<int> down = runs(page, {column, m.top()}, {0, 1}, m.height());
  for (const auto* line : {&across, &down}) {
    QCOMPARE(int(line->size()), tokens);
    for (int i = 0; i < tokens; ++i) {
      const double expected = i == 0 || i == tokens - 1 ? cell - frame : cell;
      QVERIFY2(std::abs((*line)[i] - expected) <= 2,
               qPrintable(
                   QString("cell %1 is %2 px, expected %3").arg(i).arg((*line)[i]).arg(expected)));
    }
  }
  const auto frameNear = [&](int x, int y, QPoint step) {
    for (int i = 1; i <= 3; ++i) {
      const QColor c = page.pixelColor(QPoint(x, y) + step * i);
      if (c.lightness() < 100) return true;
    }
    return false;
  };
  QVERIFY2(frameNear(m.left(), row, {-1, 0}), "a blank band left of the first column");
  QVERIFY2(frameNear(m.right(), row, {1, 0}), "a blank band right of the last column");
  QVERIFY2(frameNear(column, m.top(), {0, -1}), "a blank band above the first row");
  QVERIFY2(frameNear(column, m.bottom(), {0, 1}), "a blank band below the last row");
}

// Pivot (white dot), protected (red square), evicted (dark cross) and the set's outline at both
// sizes (before, they were left out where a token was under 3 pixels: below about 1200 x 900),
// larger in the larger figure.
void TestFigureExport::marksAppearAtEverySize() {
  if (ghostscript().isEmpty()) QSKIP("no Ghostscript (gs) to render the PDF");
  S h;
  int redWidth[2] = {0, 0};
  const QList<QSizeF> sizes = {{3.5, 3.5}, {7, 5}};
  for (int i = 0; i < sizes.size(); ++i) {
    const QString pdf = dir_.filePath(QStringLiteral("marks%1.pdf").arg(i));
    QCOMPARE(h.exportAs(pdf, sizes[i].width(), sizes[i].height()), QString());
    const QImage page = renderPdf(pdf, kRenderDpi);
    const QRect m = findMatrix(page);
    const double cell = m.width() / 120.0;
    const auto centre = [&](double t) {
      return QPointF(m.left() + (t + 0.5) * cell, m.top() + (t + 0.5) * cell);
    };
    const QString at =
        QStringLiteral(" at %1 x %2 in").arg(sizes[i].width()).arg(sizes[i].height());
    const QPointF pivot = centre(S::kPivot), shielded = centre(S::kProtected[1]),
                  evicted = centre(55);
    QVERIFY2(near(page, pivot.x(), pivot.y(), 1, white), qPrintable("no pivot" + at));
    QVERIFY2(near(page, shielded.x(), shielded.y(), 1, red), qPrintable("no protected mark" + at));
    QVERIFY2(near(page, evicted.x(), evicted.y(), 1, darkGrey), qPrintable("no evicted mark" + at));
    // The set's outline: its left edge (between tokens 9 and 10), at the pivot's height.
    QVERIFY2(near(page, m.left() + S::kSetFirst * cell, pivot.y(), 2, white),
             qPrintable("no set outline" + at));
    for (int x = int(shielded.x()); red(page.pixelColor(x, int(shielded.y()))); --x) ++redWidth[i];
    for (int x = int(shielded.x()) + 1; red(page.pixelColor(x, int(shielded.y()))); ++x) {
      ++redWidth[i];
    }
  }
  // The marks scale with the figure (its data area is 1.4 times as large).
  QVERIFY2(
      redWidth[1] > redWidth[0] * 1.2,
      qPrintable(QString("protected mark %1 px, then %2 px").arg(redWidth[0]).arg(redWidth[1])));
}

void TestFigureExport::titleAndLegendAreOptions() {
  S h;
  const int rows = h.panel->plot()->plotLayout()->rowCount();
  const QRect screen = h.panel->plot()->axisRect()->rect();
  const QString plain = dir_.filePath("plain.pdf"), decorated = dir_.filePath("decorated.pdf");
  QCOMPARE(h.exportAs(plain, 3.5, 3.5), QString());
  QCOMPARE(h.exportAs(decorated, 3.5, 3.5, /*legend=*/true, /*title=*/true), QString());
  // The screen's plot is as it was: the line naming the variant back above it, nothing added.
  QCOMPARE(h.panel->plot()->plotLayout()->rowCount(), rows);
  h.panel->plot()->replot();
  QCOMPARE(h.panel->plot()->axisRect()->rect(), screen);  // no margins kept from the export
  auto* label = h.panel->plot()->findChild<QCPTextElement*>("heatmapVariant");
  QVERIFY(label && label->visible() && label->layout());
  if (ghostscript().isEmpty()) QSKIP("no Ghostscript (gs) to read the PDF's text");
  // (txtwrite separates words by tabs.)
  const QString text = pdfText(decorated).simplified(), plainText = pdfText(plain).simplified();
  const QString title = h.panel->titleText();
  QCOMPARE(title, QStringLiteral("Layer 0, head 0, keys (after RoPE): kvmerger, budget 0.50"));
  QVERIFY2(text.contains(title), qPrintable(text));
  for (Marker m : {Marker::kSet, Marker::kPivot, Marker::kProtected, Marker::kEvicted}) {
    QVERIFY2(text.contains(markerName(m)), qPrintable(markerName(m)));
    QVERIFY(!plainText.contains(markerName(m)));
  }
  QVERIFY(!plainText.contains("kvmerger"));  // nor the on-screen line
  // Both still have square cells: the legend and title take room from the page, not the cells.
  const QRect m = findMatrix(renderPdf(decorated, 600));
  QVERIFY2(std::abs(m.width() - m.height()) <= 3,
           qPrintable(QString("%1 x %2").arg(m.width()).arg(m.height())));
}

// A large PNG is compressed, and a large matrix's CSV written, on other threads: a timer of the
// GUI keeps firing meanwhile (it would not fire once if the export ran on the GUI thread).
void TestFigureExport::largeExportsKeepTheGuiServed() {
  int ticks = 0;
  QTimer timer;
  timer.setInterval(10);
  connect(&timer, &QTimer::timeout, this, [&] { ++ticks; });
  timer.start();
  S h;
  ExportRequest r;
  r.path = dir_.filePath("large.png");
  r.unit = ExportRequest::Unit::kInches;
  r.width = 10;
  r.height = 8;
  r.dpi = 600;  // 6000 x 4800 pixels
  QElapsedTimer took;
  took.start();
  QCOMPARE(h.exports.exportFigure("heatmap", r), QString());
  qInfo("a 6000 x 4800 PNG in %lld ms, %d timer ticks served meanwhile", took.elapsed(), ticks);
  QCOMPARE(QImageReader(r.path).size(), QSize(6000, 4800));
  QVERIFY2(ticks >= 2, "the GUI served no events while the PNG was encoded");

  S big(2048);  // a 2048 x 2048 CSV beside a small PDF
  ticks = 0;
  took.restart();
  QCOMPARE(big.exportAs(dir_.filePath("large.pdf"), 3.5, 3.5), QString());
  qInfo("2048 tokens as PDF and CSV in %lld ms, %d timer ticks served meanwhile", took.elapsed(),
        ticks);
  QVERIFY2(ticks >= 2, "the GUI served no events while the CSV was written");
}

// A real run (stories260K, the Lily prompt): layer 2, head 1 at 3.5 x 3.5 inches with title and
// legend, its marks found in the rendered page. KVS_FIGURE_DIR keeps it (the README's figure).
void TestFigureExport::realRunFigure() {
  if (!QFile::exists(kModel)) QSKIP("no stories260K model");
  MainWindow w(kModel);
  w.show();
  QVERIFY(runPrompt(w, 120));
  w.heatmap()->select(2, 1);
  QTRY_VERIFY_WITH_TIMEOUT(
      w.heatmap()->showsSelection() && w.heatmap()->overlay()->blockCount() > 0, kTimeoutMs);
  const QString keep = qEnvironmentVariable("KVS_FIGURE_DIR");
  const QString dir = keep.isEmpty() ? dir_.path() : keep;
  ExportRequest r;
  r.path = QDir(dir).filePath("heatmap_layer2_head1.pdf");
  r.format = ExportRequest::Format::kPdf;
  r.unit = ExportRequest::Unit::kInches;
  r.width = r.height = 3.5;
  r.title = r.legend = true;
  QCOMPARE(w.exportView("heatmap", r), QString());
  if (ghostscript().isEmpty()) QSKIP("no Ghostscript (gs) to render the PDF");
  for (int dpi : {150, 300}) {
    // The protected tokens' red marks, above the legend (which has a red swatch too).
    const QImage page = renderPdf(r.path, dpi);
    int redPixels = 0;
    for (int y = 0; y < page.height() * 7 / 10; ++y) {
      for (int x = 0; x < page.width() * 3 / 4; ++x) redPixels += red(page.pixelColor(x, y));
    }
    QVERIFY2(redPixels > 20,
             qPrintable(QString("%1 red pixels at %2 DPI").arg(redPixels).arg(dpi)));
  }
}

QTEST_MAIN(TestFigureExport)
#include "test_figure_export.moc"
