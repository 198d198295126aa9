#pragma once
// ExportableView: a view that can be written as a paper figure: its plots (each a File menu
// entry), the plotted numbers as CSV and a description of what it shows for the JSON sidecar.
// ExportMenu builds its entries from the views registered with it, so a new view exports by
// implementing this, without the window knowing its name.

#include <QJsonObject>
#include <QKeySequence>
#include <QSizeF>
#include <QString>
#include <QVector>
#include <memory>

#include "plot_exporter.h"

class QCustomPlot;

namespace kvs::ui {

// One figure of a view and its File menu entry.
struct ExportFigure {
  ExportFigure(QString name, QString menuText, QCustomPlot* plot, QString actionName = {},
               QKeySequence shortcut = {}, QSizeF inches = {3.5, 2.6})
      : name(std::move(name)),
        menuText(std::move(menuText)),
        plot(plot),
        actionName(std::move(actionName)),
        shortcut(std::move(shortcut)),
        inches(inches) {}

  QString name;      // "heatmap", "memory-layers": default file name, the sidecar's "panel"
  QString menuText;  // "Export &heatmap..."
  QCustomPlot* plot;
  QString actionName;  // the menu action's objectName (tests and buttons look for it)
  QKeySequence shortcut;
  QSizeF inches;  // the size the export dialog offers first (a one-column figure)
};

class ExportableView {
 public:
  virtual ~ExportableView() = default;

  virtual QVector<ExportFigure> exportFigures() const = 0;
  // The plotted numbers.
  virtual QString csv() const = 0;
  // What makes the CSV written beside `figure` (csv() unless the view has more to say about its
  // data). It runs on another thread, since a large matrix's text takes longer than a frame: it
  // holds copies of what it needs, never the view.
  virtual CsvMaker figureCsv(const QString& figure) const {
    Q_UNUSED(figure);
    return [text = csv()] { return text; };
  }
  // What the view shows (layer, head, ranges, ...), the sidecar's "view".
  virtual QJsonObject viewJson() const = 0;
  // What `figure` gets for one export as asked (a title, a legend of its markers, its aspect),
  // taken away when the result is destroyed; null: the plot as it is.
  virtual std::unique_ptr<ExportDecoration> decorate(const QString& figure,
                                                     const ExportRequest& request) {
    Q_UNUSED(figure);
    Q_UNUSED(request);
    return nullptr;
  }
};

}  // namespace kvs::ui
