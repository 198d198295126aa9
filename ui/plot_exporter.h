#pragma once
// Figures for papers: any QCustomPlot as PNG (pixel size and DPI chosen), PDF or SVG (vector),
// with the plotted data beside it as CSV and the settings that made it as a JSON sidecar
// (model, compression parameters, seed, app version, the view).

#include <QJsonObject>
#include <QString>

#include "paper_style.h"

class QCustomPlot;

namespace kvs::ui {

struct ExportRequest {
  enum class Format { kPng, kPdf, kSvg };
  QString path;  // the figure; path without suffix + ".csv" and ".json" beside it
  Format format = Format::kPng;
  int width = 1200, height = 900;  // logical size (points for PDF/SVG, pixels at 96 DPI for PNG)
  int dpi = 300;                   // PNG only: pixels = size * dpi / 96
  PaperStyle style;                // applied while writing when style.enabled
};

// The format named by the path's suffix (png, pdf, svg); PNG otherwise.
ExportRequest::Format formatForPath(const QString& path);

// Writes the figure, the CSV and the sidecar. Returns an empty string, or what went wrong (no
// partial file is left behind under the figure's name).
QString exportPlot(QCustomPlot* plot, const ExportRequest& request, const QString& csv,
                   const QJsonObject& sidecar);

}  // namespace kvs::ui
