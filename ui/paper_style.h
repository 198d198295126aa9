#pragma once
// PaperStyle: how exported figures look in a paper (fonts, perceptual colour map, colour-bar
// label, line width), persisted in QSettings and applied to a plot only while it is exported.

#include <QJsonObject>
#include <QString>
#include <functional>
#include <vector>

class QCustomPlot;
class QSettings;

namespace kvs::ui {

struct PaperStyle {
  bool enabled = false;                           // off: figures look as on screen
  QString fontFamily;                             // empty: the application's font
  int tickPt = 9, labelPt = 11, titlePt = 12;     // tick labels and legend; axis labels; titles
  QString colourMap = QStringLiteral("viridis");  // a colourMapNames() name; empty: as shown
  QString colourBarLabel;                         // empty: the view's own label
  double lineWidth = 1.5;                         // curves, bars, error bars (points)

  static PaperStyle load(const QSettings& settings);  // keys under "paperStyle/"
  void save(QSettings& settings) const;
  QJsonObject toJson() const;  // for the figure's sidecar
  bool operator==(const PaperStyle& o) const;
};

// Restyles a plot for as long as it lives and then puts every changed property back: exports
// draw the on-screen plot, which must not stay changed.
class PaperStyleScope {
 public:
  PaperStyleScope(QCustomPlot* plot, const PaperStyle& style);
  ~PaperStyleScope();
  PaperStyleScope(const PaperStyleScope&) = delete;
  PaperStyleScope& operator=(const PaperStyleScope&) = delete;

 private:
  QCustomPlot* plot_;
  std::vector<std::function<void()>> restore_;  // each puts one old value back, newest last
};

}  // namespace kvs::ui
