#pragma once
// Figures for papers: any QCustomPlot as PNG (its pixels at a DPI), PDF or SVG (a page of the size
// asked for), with the plotted data beside it as CSV and the settings that made it as a JSON
// sidecar (model, compression parameters, sampling, app version, the view, the fonts used and
// every file written under the same base name).
//
// Every format is laid out at kLayoutDpi units per inch, so a figure looks the same in all three
// and at every DPI: fonts come out at their point size, lines at their width in 1/96 inch.

#include <QJsonObject>
#include <QSize>
#include <QSizeF>
#include <QString>
#include <functional>

#include "paper_style.h"

class QCustomPlot;

namespace kvs::ui {

inline constexpr int kLayoutDpi = 96;

struct ExportRequest {
  enum class Format { kPng, kPdf, kSvg };
  enum class Unit { kInches, kCm, kPixels };
  QString path;  // the figure; path without suffix + ".csv" and ".json" beside it
  Format format = Format::kPng;
  // The figure's size in `unit`. Pixels are pixels of the PNG, at `dpi` per inch: 1200 x 900 at
  // 300 DPI is a 1200 x 900 PNG of 4 x 3 inches and a 4 x 3 inch PDF page.
  double width = 1200, height = 900;
  Unit unit = Unit::kPixels;
  int dpi = 300;     // the PNG's pixels per inch (and the pixel size of a PDF/SVG given in pixels)
  PaperStyle style;  // applied while writing when style.enabled
  bool title = false;   // the view's title above the plot (heatmap: layer, head, source, method)
  bool legend = false;  // a legend of the view's markers (heatmap: pivots, protected, evicted)

  QSizeF inches() const;     // the page
  QSize pixels() const;      // the PNG: inches x dpi, rounded
  QSize layoutSize() const;  // what the plot is laid out in: inches x kLayoutDpi
  QString check() const;     // empty, or why the request cannot be written
};

// The format named by the path's suffix (png, pdf, svg); PNG otherwise.
ExportRequest::Format formatForPath(const QString& path);
QString unitName(ExportRequest::Unit unit);  // "in", "cm", "px"

// What a view adds to its plot for one export (a title, a legend, square cells), taken away again
// when destroyed. fit() runs after the paper style is applied, with the size the plot is laid out
// at, so it can arrange the layout as it will be drawn.
class ExportDecoration {
 public:
  virtual ~ExportDecoration() = default;
  virtual void fit(QCustomPlot* plot, const QSize& layoutSize) = 0;
};

// Makes the text of a figure's CSV; called on another thread.
using CsvMaker = std::function<QString()>;

// Writes the figure, the CSV and the sidecar. Returns an empty string, or what went wrong (no
// partial file is left behind under the figure's name). The CSV is made and the PNG encoded on
// other threads while the GUI keeps serving events; everything that touches the plot happens on
// the GUI thread, before.
QString exportPlot(QCustomPlot* plot, const ExportRequest& request, CsvMaker csv,
                   const QJsonObject& sidecar, ExportDecoration* decoration = nullptr);
QString exportPlot(QCustomPlot* plot, const ExportRequest& request, const QString& csv,
                   const QJsonObject& sidecar, ExportDecoration* decoration = nullptr);

}  // namespace kvs::ui
