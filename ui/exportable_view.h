#pragma once
// ExportableView: a view that can be written as a paper figure: its plots (each a File menu
// entry), the plotted numbers as CSV and a description of what it shows for the JSON sidecar.
// ExportMenu builds its entries from the views registered with it, so a new view exports by
// implementing this, without the window knowing its name.

#include <QJsonObject>
#include <QKeySequence>
#include <QString>
#include <QVector>

class QCustomPlot;

namespace kvs::ui {

// One figure of a view and its File menu entry.
struct ExportFigure {
  ExportFigure(QString name, QString menuText, QCustomPlot* plot, QString actionName = {},
               QKeySequence shortcut = {})
      : name(std::move(name)),
        menuText(std::move(menuText)),
        plot(plot),
        actionName(std::move(actionName)),
        shortcut(std::move(shortcut)) {}

  QString name;      // "heatmap", "memory-layers": default file name, the sidecar's "panel"
  QString menuText;  // "Export &heatmap..."
  QCustomPlot* plot;
  QString actionName;  // the menu action's objectName (tests and buttons look for it)
  QKeySequence shortcut;
};

class ExportableView {
 public:
  virtual ~ExportableView() = default;

  virtual QVector<ExportFigure> exportFigures() const = 0;
  // The plotted numbers, written beside each figure of the view.
  virtual QString csv() const = 0;
  // What the view shows (layer, head, ranges, ...), the sidecar's "view".
  virtual QJsonObject viewJson() const = 0;
};

}  // namespace kvs::ui
