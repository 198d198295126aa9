#include "plot_exporter.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSvgGenerator>
#include <optional>
#include "qcustomplot_include.h"

namespace kvs::ui {
namespace {

QString besidePath(const QString& figure, const QString& suffix) {
  const QFileInfo info(figure);
  return info.dir().filePath(info.completeBaseName() + suffix);
}

QString writeText(const QString& path, const QByteArray& bytes) {
  QSaveFile file(path);  // renamed into place only when complete
  if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit()) {
    return QObject::tr("cannot write %1: %2").arg(path, file.errorString());
  }
  return {};
}

bool saveSvg(QCustomPlot* plot, const QString& path, int width, int height) {
  QSvgGenerator svg;
  svg.setFileName(path);
  svg.setSize(QSize(width, height));
  svg.setViewBox(QRect(0, 0, width, height));
  svg.setTitle(QStringLiteral("KV Studio"));
  QCPPainter painter;
  if (!painter.begin(&svg)) return false;
  plot->toPainter(&painter, width, height);
  return painter.end();
}

}  // namespace

ExportRequest::Format formatForPath(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "pdf") return ExportRequest::Format::kPdf;
  if (suffix == "svg") return ExportRequest::Format::kSvg;
  return ExportRequest::Format::kPng;
}

QString exportPlot(QCustomPlot* plot, const ExportRequest& r, const QString& csv,
                   const QJsonObject& sidecar) {
  if (r.width <= 0 || r.height <= 0 || r.dpi <= 0) {
    return QObject::tr("the figure size and DPI must be positive");
  }
  // QCustomPlot writes in place; write to a temporary name and rename, so a failed export does
  // not leave a file that looks valid.
  const QString partial = r.path + QStringLiteral(".part");
  std::optional<PaperStyleScope> styled;  // the on-screen look comes back when this ends
  if (r.style.enabled) styled.emplace(plot, r.style);
  bool ok = false;
  switch (r.format) {
    case ExportRequest::Format::kPng:
      ok = plot->savePng(partial, r.width, r.height, r.dpi / 96.0, -1, r.dpi);
      break;
    case ExportRequest::Format::kPdf:
      ok =
          plot->savePdf(partial, r.width, r.height, QCP::epNoCosmetic, QStringLiteral("KV Studio"));
      break;
    case ExportRequest::Format::kSvg:
      ok = saveSvg(plot, partial, r.width, r.height);
      break;
  }
  if (ok) {
    QFile::remove(r.path);
    ok = QFile::rename(partial, r.path);
  }
  if (!ok) {
    QFile::remove(partial);
    return QObject::tr("cannot write the figure %1").arg(r.path);
  }
  if (QString e = writeText(besidePath(r.path, ".csv"), csv.toUtf8()); !e.isEmpty()) return e;
  QJsonObject meta = sidecar;
  meta["figure"] = QFileInfo(r.path).fileName();
  meta["width"] = r.width;
  meta["height"] = r.height;
  if (r.format == ExportRequest::Format::kPng) meta["dpi"] = r.dpi;
  if (r.style.enabled) meta["paper_style"] = r.style.toJson();
  return writeText(besidePath(r.path, ".json"), QJsonDocument(meta).toJson());
}

}  // namespace kvs::ui
