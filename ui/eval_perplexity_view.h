#pragma once
// EvalPerplexityView: `eval perplexity` curves, the NLL of every position of the text under each
// setting's fixed cache size, one line per setting, its mean NLL in the legend: over the
// positions every curve covers (as the CLI's table), so the settings' means compare.

#include <QWidget>

#include "eval_results.h"

class QCustomPlot;
class QCPTextElement;

namespace kvs::ui {

class EvalPerplexityView : public QWidget {
  Q_OBJECT

 public:
  explicit EvalPerplexityView(QWidget* parent = nullptr);

  void setData(const EvalData& data);
  QCustomPlot* plot() const { return plot_; }
  // The legend's name of a curve: "h2o_64tok (cache 64): mean NLL 3.412" (common positions).
  static QString curveName(const PerplexityCurveData& curve);

 private:
  QCustomPlot* plot_;
  QCPTextElement* title_;  // which positions the legend's means are over
};

}  // namespace kvs::ui
