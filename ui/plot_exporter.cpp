#include "plot_exporter.h"

#include <QBuffer>
#include <QCoreApplication>
#include <QFileInfo>
#include <QFontInfo>
#include <QJsonArray>
#include <QPageLayout>
#include <QPdfWriter>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSvgGenerator>
#include <chrono>
#include <future>
#include <optional>
#include "qcustomplot_include.h"

#include "export_sidecar.h"

namespace kvs::ui {
namespace {

constexpr double kCmPerInch = 2.54;
constexpr qint64 kMaxPixels = 200'000'000;  // a 14142-pixel square: 800 MB of image at most

QString besidePath(const QString& figure, const QString& suffix) {
  const QFileInfo info(figure);
  return info.dir().filePath(info.completeBaseName() + suffix);
}

QString writeBytes(const QString& path, const QByteArray& bytes) {
  QSaveFile file(path);  // renamed into place only when complete
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    return QObject::tr("cannot write %1: %2").arg(path, file.errorString());
  }
  return {};
}

// The modes QCustomPlot's own vector exports use: the colour map is drawn for a vector device,
// nothing is cached as pixmaps, and cosmetic (zero-width) pens get a real width. Images (the
// colour bar's gradient; the heatmap sets it itself) are written losslessly: Qt's PDF engine
// would otherwise pick JPEG when it comes out smaller.
void vectorModes(QCPPainter& painter) {
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  painter.setMode(QCPPainter::pmNonCosmetic);
  painter.setRenderHint(QPainter::LosslessImageRendering, true);
}

QImage renderImage(QCustomPlot* plot, const ExportRequest& r) {
  const QSize px = r.pixels(), layout = r.layoutSize();
  QImage image(px, QImage::Format_ARGB32_Premultiplied);
  // Laid out at kLayoutDpi (fonts in points become that many units), then scaled to the pixels.
  const int layoutDpm = qRound(kLayoutDpi / 0.0254);
  image.setDotsPerMeterX(layoutDpm);
  image.setDotsPerMeterY(layoutDpm);
  image.fill(Qt::transparent);  // toPainter fills the plot's background
  {
    QCPPainter painter(&image);
    const double sx = double(px.width()) / layout.width(),
                 sy = double(px.height()) / layout.height();
    // As QCustomPlot's toPixmap: below 1:1 cosmetic pens keep thin lines from vanishing.
    if (sx > 1.0) painter.setMode(QCPPainter::pmNonCosmetic);
    painter.scale(sx, sy);
    plot->toPainter(&painter, layout.width(), layout.height());
  }
  const int dpm = qRound(r.dpi / 0.0254);  // what the PNG says (pHYs)
  image.setDotsPerMeterX(dpm);
  image.setDotsPerMeterY(dpm);
  return image;
}

QByteArray renderPdf(QCustomPlot* plot, const ExportRequest& r) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  QPdfWriter writer(&buffer);
  writer.setCreator(QStringLiteral("KV Studio"));
  writer.setTitle(QFileInfo(r.path).completeBaseName());
  writer.setResolution(kLayoutDpi);
  const QPageSize page(r.inches(), QPageSize::Inch, QString(), QPageSize::ExactMatch);
  if (!writer.setPageLayout(QPageLayout(page, QPageLayout::Portrait, QMarginsF()))) return {};
  QCPPainter painter;
  if (!painter.begin(&writer)) return {};
  vectorModes(painter);
  const QSize layout = r.layoutSize();
  plot->toPainter(&painter, layout.width(), layout.height());
  if (!painter.end()) return {};
  return bytes;
}

QByteArray renderSvg(QCustomPlot* plot, const ExportRequest& r) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  const QSize layout = r.layoutSize();
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setResolution(kLayoutDpi);
  svg.setSize(layout);
  svg.setViewBox(QRect(QPoint(0, 0), layout));
  svg.setTitle(QStringLiteral("KV Studio"));
  QCPPainter painter;
  if (!painter.begin(&svg)) return {};
  vectorModes(painter);
  plot->toPainter(&painter, layout.width(), layout.height());
  if (!painter.end()) return {};
  // The page as asked (Qt writes the size rounded to whole layout units), and embedded images
  // (the heatmap's cells) scaled without smoothing: SVG viewers interpolate images by default.
  const QSizeF mm = r.inches() * 25.4;
  static const QRegularExpression size(
      QStringLiteral("<svg width=\"[0-9.]+mm\" height=\"[0-9.]+mm\""));
  QString text = QString::fromUtf8(bytes);
  text.replace(size, QStringLiteral("<svg width=\"%1mm\" height=\"%2mm\"")
                         .arg(mm.width(), 0, 'f', 3)
                         .arg(mm.height(), 0, 'f', 3));
  // Qt writes image-rendering="optimizeSpeed", which browsers read as "smooth if you like".
  text.replace(QStringLiteral("<image "),
               QStringLiteral("<image style=\"image-rendering:pixelated\" "));
  return text.toUtf8();
}

// The result of work on another thread, the GUI serving events meanwhile: PNG compression of a
// large figure (6000 x 4800 pixels: 0.8 s) and the CSV of a large matrix (2048 tokens: 0.6 s)
// take longer than a frame.
template <typename T>
T served(std::future<T>& job) {
  while (job.wait_for(std::chrono::milliseconds(5)) != std::future_status::ready) {
    QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
  }
  return job.get();
}

QByteArray pngBytes(const QImage& image) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  return image.save(&buffer, "PNG") ? bytes : QByteArray();
}

// The fonts the figure was drawn with: the family as the font database matched it (a family that
// is not installed is replaced by another, and the sidecar names that one), at the size asked
// (vector text keeps it; QFontInfo would give the screen's whole-pixel size).
QJsonObject fontsUsed(QCustomPlot* plot) {
  const auto describe = [](const QFont& font) {
    return QJsonObject{{"family", QFontInfo(font).family()}, {"pt", font.pointSizeF()}};
  };
  QJsonObject o{{"tick_labels", describe(plot->xAxis->tickLabelFont())},
                {"axis_labels", describe(plot->xAxis->labelFont())}};
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true)) {
    if (auto* title = qobject_cast<QCPTextElement*>(e); title && !title->text().isEmpty()) {
      o["title"] = describe(title->font());
    }
  }
  if (plot->legend && plot->legend->visible()) o["legend"] = describe(plot->legend->font());
  return o;
}

QJsonObject fileEntry(const ExportRequest& r, const QByteArray& bytes) {
  static const char* formats[] = {"png", "pdf", "svg"};
  const QSizeF in = r.inches();
  QJsonObject o{{"file", QFileInfo(r.path).fileName()},
                {"format", formats[static_cast<int>(r.format)]},
                {"width", r.width},
                {"height", r.height},
                {"unit", unitName(r.unit)},
                {"width_in", in.width()},
                {"height_in", in.height()},
                {"bytes", double(bytes.size())}};
  if (r.format == ExportRequest::Format::kPng) {
    o["dpi"] = r.dpi;
    o["pixels"] = QJsonArray{r.pixels().width(), r.pixels().height()};
  } else {
    o["page_points"] = QJsonArray{in.width() * 72, in.height() * 72};
  }
  return o;
}

}  // namespace

QSizeF ExportRequest::inches() const {
  switch (unit) {
    case Unit::kInches:
      return {width, height};
    case Unit::kCm:
      return {width / kCmPerInch, height / kCmPerInch};
    case Unit::kPixels:
      break;
  }
  return {width / dpi, height / dpi};
}

QSize ExportRequest::pixels() const {
  if (unit == Unit::kPixels) return {qRound(width), qRound(height)};
  const QSizeF in = inches();
  return {qRound(in.width() * dpi), qRound(in.height() * dpi)};
}

QSize ExportRequest::layoutSize() const {
  const QSizeF in = inches();
  return {qMax(1, qRound(in.width() * kLayoutDpi)), qMax(1, qRound(in.height() * kLayoutDpi))};
}

QString ExportRequest::check() const {
  if (!(width > 0) || !(height > 0) || dpi <= 0) {
    return QObject::tr("the figure size and DPI must be positive");
  }
  const QSizeF in = inches();
  if (in.width() < 0.5 || in.height() < 0.5 || in.width() > 100 || in.height() > 100) {
    return QObject::tr("a figure is 0.5 to 100 inches wide and high (asked: %1 x %2 in)")
        .arg(in.width(), 0, 'f', 2)
        .arg(in.height(), 0, 'f', 2);
  }
  const QSize px = pixels();
  if (format == Format::kPng && qint64(px.width()) * px.height() > kMaxPixels) {
    return QObject::tr("%1 x %2 pixels is too large a PNG; lower the DPI or use PDF or SVG")
        .arg(px.width())
        .arg(px.height());
  }
  return {};
}

ExportRequest::Format formatForPath(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "pdf") return ExportRequest::Format::kPdf;
  if (suffix == "svg") return ExportRequest::Format::kSvg;
  return ExportRequest::Format::kPng;
}

QString unitName(ExportRequest::Unit unit) {
  switch (unit) {
    case ExportRequest::Unit::kInches:
      return QStringLiteral("in");
    case ExportRequest::Unit::kCm:
      return QStringLiteral("cm");
    case ExportRequest::Unit::kPixels:
      break;
  }
  return QStringLiteral("px");
}

QString exportPlot(QCustomPlot* plot, const ExportRequest& r, const QString& csv,
                   const QJsonObject& sidecar, ExportDecoration* decoration) {
  return exportPlot(plot, r, CsvMaker([csv] { return csv; }), sidecar, decoration);
}

QString exportPlot(QCustomPlot* plot, const ExportRequest& r, CsvMaker csv,
                   const QJsonObject& sidecar, ExportDecoration* decoration) {
  if (QString e = r.check(); !e.isEmpty()) return e;
  auto csvJob = std::async(std::launch::async, std::move(csv));  // while the figure is drawn
  QImage image;
  QByteArray bytes;
  QJsonObject fonts;
  {
    std::optional<PaperStyleScope> styled;  // the on-screen look comes back when this ends
    if (r.style.enabled) styled.emplace(plot, r.style);
    if (decoration) decoration->fit(plot, r.layoutSize());
    fonts = fontsUsed(plot);
    switch (r.format) {
      case ExportRequest::Format::kPng:
        image = renderImage(plot, r);
        break;
      case ExportRequest::Format::kPdf:
        bytes = renderPdf(plot, r);
        break;
      case ExportRequest::Format::kSvg:
        bytes = renderSvg(plot, r);
        break;
    }
  }
  if (r.format == ExportRequest::Format::kPng && !image.isNull()) {
    auto encoding = std::async(std::launch::async, pngBytes, image);
    bytes = served(encoding);
  }
  const QString csvText = served(csvJob);
  if (bytes.isEmpty()) return QObject::tr("cannot draw the figure %1").arg(r.path);
  if (QString e = writeBytes(r.path, bytes); !e.isEmpty()) return e;
  if (QString e = writeBytes(besidePath(r.path, ".csv"), csvText.toUtf8()); !e.isEmpty()) {
    return e;
  }
  QJsonObject meta = sidecar;
  meta["fonts"] = fonts;
  meta["title"] = r.title;
  meta["legend"] = r.legend;
  if (r.style.enabled) meta["paper_style"] = r.style.toJson();
  return writeSidecar(besidePath(r.path, ".json"), meta, fileEntry(r, bytes));
}

}  // namespace kvs::ui
