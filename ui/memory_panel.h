#pragma once
// MemoryPanel: the bytes the cache tensors really hold. Bars per layer of the full cache against
// the compressed one right after compression; the total over the generation steps (compressed
// and full); the process's resident memory; and, for a model with a sliding window, the slots
// the window dropped and the bytes that saved.

#include "session_types.h"

#include <QJsonObject>
#include <QWidget>

#include "exportable_view.h"

class QCPBars;
class QCPGraph;
class QCustomPlot;
class QLabel;

namespace kvs::ui {

class EmptyState;
class ExportMenu;
class SessionController;

class MemoryPanel : public QWidget, public ExportableView {
  Q_OBJECT

 public:
  explicit MemoryPanel(QWidget* parent = nullptr);
  // Follows the controller's variants; both plots go into exportMenu.
  void wire(SessionController* controller, ExportMenu* exportMenu);

  QCustomPlot* layerPlot() const { return layers_; }
  QCustomPlot* stepsPlot() const { return steps_; }
  QCPBars* compressedBars() const { return compressed_; }
  QCPGraph* compressedSteps() const { return stepsCompressed_; }
  // The sliding window's line (empty and hidden without a window).
  QString windowText() const;
  // Both plots' data: one row per layer, then one per step.
  QString csv() const override;
  QJsonObject viewJson() const override;
  QVector<ExportFigure> exportFigures() const override;
  // The title, when asked: what the plot shows and of which variant.
  std::unique_ptr<ExportDecoration> decorate(const QString& figure,
                                             const ExportRequest& request) override;

 public Q_SLOTS:
  void setVariant(const kvs::ui::VariantSummary& summary);

 private:
  QCustomPlot* layers_;
  QCustomPlot* steps_;
  QCPBars* full_;
  QCPBars* compressed_;
  QCPGraph* stepsFull_;
  QCPGraph* stepsCompressed_;
  QLabel* process_;
  QLabel* window_;  // Mistral's sliding window: what it dropped (hidden for other models)
  // Over each plot while it has nothing to show (before a Run; a recording has no per-layer bytes).
  EmptyState* layersEmpty_;
  EmptyState* stepsEmpty_;
  VariantSummary shown_;
};

}  // namespace kvs::ui
