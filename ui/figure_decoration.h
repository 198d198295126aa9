#pragma once
// FigureDecoration: what an exported figure adds to its plot and takes away afterwards: a title
// row above the axis rect, elements (a legend) in rows below it, on-screen elements left out, and
// a square data area at the export's size (a heatmap's cells square on any page).

#include <QString>
#include <functional>
#include <vector>

#include "plot_exporter.h"

class QCPLayoutElement;
class QCPTextElement;

namespace kvs::ui {

class FigureDecoration : public ExportDecoration {
 public:
  explicit FigureDecoration(QCustomPlot* plot);
  ~FigureDecoration() override;
  FigureDecoration(const FigureDecoration&) = delete;
  FigureDecoration& operator=(const FigureDecoration&) = delete;

  // Takes an element out of the plot's layout for the export (e.g. an on-screen label).
  void leaveOut(QCPLayoutElement* element);
  // A title above the axis rect, in the plot's font at titlePt (the paper style may change it).
  QCPTextElement* addTitle(const QString& text, int titlePt = 12);
  // An element in a new row below the axis rect (owned by the layout; deleted afterwards).
  void addBelow(QCPLayoutElement* element);
  void setSquare(bool square) { square_ = square; }
  // Runs once the plot is laid out at the figure's size (the axes' pixel lengths are the
  // figure's), before the square is fitted.
  void setLaidOut(std::function<void()> laidOut) { laidOut_ = std::move(laidOut); }

  void fit(QCustomPlot* plot, const QSize& layoutSize) override;

 private:
  QCustomPlot* plot_;
  bool square_ = false;
  std::function<void()> laidOut_;
  std::vector<std::function<void()>> restore_;  // newest last, run in reverse
};

}  // namespace kvs::ui
