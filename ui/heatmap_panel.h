#pragma once
// HeatmapPanel: the [T, T] similarity (or attention) matrix of one layer and head, or the mean
// over heads, as a QCustomPlot colour map with a colour scale; zoom and pan with the mouse; the
// token pieces label the axes when zoomed in; the merging layout is drawn on the diagonal, and a
// line above the plot says whose sets they are (the Parameters setting or a Compare row's).
// Hovering a cell shows its value and both tokens. Large T stays smooth: each frame reads at most
// kMaxCells x kMaxCells cells of a mean pyramid. Exports (heatmap_export.cpp) have square cells,
// an optional title and a legend of the marks, and a CSV with each token's piece and fate.

#include "session_types.h"

#include <QJsonObject>
#include <QWidget>
#include <functional>

#include "exportable_view.h"
#include "matrix_pyramid.h"

class QCheckBox;
class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCPRange;
class QCPTextElement;
class QCustomPlot;
class QLabel;
class QSpinBox;

namespace kvs::ui {

class ExportMenu;
class EmptyState;
class HeatmapCells;
class MergingSetsItem;
class SessionController;

class HeatmapPanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  static constexpr int kMaxCells = 512;

  explicit HeatmapPanel(QWidget* parent = nullptr);
  // Shows the controller's prompt, layouts and matrices, asks it for the selected matrix, and
  // adds the heatmap's figures to exportMenu (heatmap_export.cpp).
  void wire(SessionController* controller, ExportMenu* exportMenu);
  // The Parameters panel's setting, to tell it apart from a Compare row's sets (wire() sets it).
  void setSettingSource(std::function<kvs::CompressionParams()> setting);

  QCustomPlot* plot() const { return plot_; }
  const MergingSetsItem* overlay() const { return overlay_; }
  QCPColorMap* colourMap() const;
  int layer() const;
  int head() const;    // -1 = mean over heads
  int source() const;  // kvs::SimilaritySource
  QString colourMapName() const;
  // Cells of the matrix behind each displayed cell along one axis (1 = full resolution).
  int displayStride() const { return 1 << level_; }
  int tokens() const { return pyramid_.size(); }
  // Whether the matrix drawn is the one selected (it arrives from the worker after a selection).
  bool showsSelection() const {
    return !pyramid_.empty() && shown_.layer == layer() && shown_.head == head() &&
           static_cast<int>(shown_.source) == source();
  }

  // The visible region of the matrix at full resolution, as CSV (row token, then one column per
  // column token), and a description of the view for export sidecars.
  QString csv() const override;
  // The CSV beside an exported heatmap: one row per token of the view's tokens (both axes' ranges
  // together), with its piece, set (first, last), pivot and fate in the sets drawn, then its
  // similarity to each of those tokens: token,piece,set_first,set_last,pivot,fate,<t0>,<t1>,...
  CsvMaker figureCsv(const QString& figure) const override;
  QJsonObject viewJson() const override;
  QVector<ExportFigure> exportFigures() const override;
  // Square cells, the title and the legend of the marks as asked; the on-screen line left out.
  std::unique_ptr<ExportDecoration> decorate(const QString& figure,
                                             const ExportRequest& request) override;
  // The figure's title: layer, head, source, and the method and budget of the sets drawn.
  QString titleText() const;
  // The line above the plot: whose merging sets are drawn (empty before a layout arrives).
  QString variantText() const;
  // Whether the sets drawn are not the Parameters setting (after a click on a Compare row).
  bool showsOtherSetting() const;
  // What hovering shows at a pixel of the plot: both tokens and the cell's value (with the block
  // mean drawn when zoomed out), and the tokens' fates; empty outside the matrix.
  QString toolTipAt(const QPointF& pixel) const;
  // The merging decisions of the current setting: {"exact_budget", "eps_used": [L][Hkv],
  // "protected_released": [L][Hkv]}.
  QJsonObject decisionsJson() const;
  // Token range shown on both axes (inclusive ends are first - 0.5 .. last + 0.5).
  void setView(double first, double last);
  void resetView();

 public Q_SLOTS:
  void setPrompt(const kvs::ui::PromptInfo& info);
  void setMatrix(const kvs::ui::SimilarityResult& result);
  void setLayout(const kvs::ui::LayoutResult& result);
  void select(int layer, int head);
  void setColourMapName(const QString& name);

 Q_SIGNALS:
  void matrixRequested(int source, int layer, int head);
  void selectionChanged(int layer, int head);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  QString decisionText(int kvHead) const;
  void fillHeads();
  // Every layer's heatmap (same head and source), "<name>_layer<l>.<ext>" each, through the
  // menu's heatmap entry: waits for each layer's matrix from the worker, the GUI still served.
  QString exportAllLayers(const ExportRequest& request, const ExportMenu& menu);
  void requestMatrix();
  void refreshCells();
  void updateOverlay();
  void updateTicks(double first, double last);
  void updateVariantLabel();
  // The tokens in view on both axes, clamped to the matrix: first .. last.
  std::pair<int, int> viewTokens(const QCPRange& range) const;

  QSpinBox* layer_;
  QComboBox* head_;
  QComboBox* source_;
  QComboBox* gradient_;
  QCheckBox* showSets_;
  QLabel* info_;
  QLabel* decision_;  // the eps the shown head's merging sets used, and released protection
  QCustomPlot* plot_;
  QCPTextElement* variantLabel_;  // on screen only: whose sets are drawn
  HeatmapCells* map_;
  QCPColorScale* scale_;
  // Over the plot until a matrix of the current prompt is drawn: before the first Run, and while
  // a run's matrix is computed (its merging sets alone, over a blank matrix, read as data).
  EmptyState* empty_;
  MergingSetsItem* overlay_;
  MatrixPyramid pyramid_;
  kvs::SimilarityMatrix shown_;  // the matrix shown (values moved into the pyramid)
  PromptInfo prompt_;
  LayoutResult layout_;
  int level_ = 0;
  double cellsFor_[4] = {0, 0, 0, 0};  // the view (x, y ranges) the cells were filled for
  bool tickLabels_ = false;
  std::function<kvs::CompressionParams()> setting_;  // the Parameters setting; null: unknown
};

}  // namespace kvs::ui
