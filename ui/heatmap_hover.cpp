// What the heatmap says about itself (heatmap_panel.h): the tooltip of the cell under the mouse,
// the line above the plot naming whose merging sets are drawn, and the exported figure's title.

#include <QComboBox>
#include <QHelpEvent>
#include <QToolTip>
#include "qcustomplot_include.h"

#include "heatmap_cells.h"
#include "heatmap_panel.h"
#include "merging_sets_item.h"
#include "token_fates.h"

namespace kvs::ui {
namespace {

// "kvmerger, budget 0.50", "h2o, 128 tokens", "full cache".
QString settingText(const CompressionParams& p) {
  if (!compresses(p)) return QObject::tr("full cache");
  const QString method = QString::fromStdString(p.method);
  if (p.budgetTokens > 0) return QObject::tr("%1, %2 tokens").arg(method).arg(p.budgetTokens);
  return QObject::tr("%1, budget %2").arg(method).arg(p.budget, 0, 'f', 2);
}

bool sameSetting(const CompressionParams& a, const CompressionParams& b) {
  return kvs::toJson(a) == kvs::toJson(b);  // the parameters each method reads
}

// "3 “▁upon”, merged into 2–5 (pivot 4)"
QString tokenText(const QStringList& pieces, const QVector<TokenFate>& fates, int t, bool sets) {
  QString text = QObject::tr("%1 \u201c%2\u201d").arg(t).arg(pieces.value(t));
  if (!sets || t >= fates.size()) return text;
  const TokenFate& f = fates[t];
  switch (f.fate) {
    case Fate::kPivot:
    case Fate::kMerged:
      return QObject::tr("%1: %2 of set %3\u2013%4 (pivot %5)")
          .arg(text, fateName(f.fate))
          .arg(f.first)
          .arg(f.last)
          .arg(f.pivot);
    default:
      return QObject::tr("%1: %2").arg(text, fateName(f.fate));
  }
}

}  // namespace

void HeatmapPanel::setSettingSource(std::function<CompressionParams()> setting) {
  setting_ = std::move(setting);
  updateVariantLabel();
}

bool HeatmapPanel::showsOtherSetting() const {
  return setting_ && !layout_.layout.heads.empty() && !sameSetting(layout_.params, setting_());
}

QString HeatmapPanel::variantText() const {
  if (layout_.layout.heads.empty()) return {};
  const QString sets = settingText(layout_.params);
  if (!showsOtherSetting()) return tr("Merging sets of %1 (the Parameters setting)").arg(sets);
  return tr("Merging sets of %1, a compared variant: not the Parameters setting (%2)")
      .arg(sets, settingText(setting_()));
}

void HeatmapPanel::updateVariantLabel() {
  variantLabel_->setText(variantText());
  // A compared variant stands out: the sets are not what Parameters shows.
  variantLabel_->setTextColor(showsOtherSetting() ? QColor(190, 80, 0) : QColor(60, 60, 60));
}

QString HeatmapPanel::titleText() const {
  QString text = tr("Layer %1, %2, %3")
                     .arg(layer())
                     .arg(head() < 0 ? tr("mean over heads") : tr("head %1").arg(head()))
                     .arg(source_->currentText());
  if (!layout_.layout.heads.empty()) text += QStringLiteral(": ") + settingText(layout_.params);
  return text;
}

QString HeatmapPanel::toolTipAt(const QPointF& pixel) const {
  if (pyramid_.empty() || !plot_->axisRect()->rect().contains(pixel.toPoint())) return {};
  const int T = pyramid_.size();
  const int key = int(std::floor(plot_->xAxis->pixelToCoord(pixel.x()) + 0.5));
  const int query = int(std::floor(plot_->yAxis->pixelToCoord(pixel.y()) + 0.5));
  if (key < 0 || key >= T || query < 0 || query >= T) return {};
  const bool sets = !overlay_->head().slots.empty();
  const QVector<TokenFate> fates = sets ? tokenFates(overlay_->head(), T) : QVector<TokenFate>();
  const bool attention = shown_.source == SimilaritySource::kAttention;
  QString tip = tr("query %1\nkey %2\n%3 %4")
                    .arg(tokenText(prompt_.pieces, fates, query, sets),
                         tokenText(prompt_.pieces, fates, key, sets),
                         attention ? tr("attention") : tr("cosine similarity"))
                    .arg(pyramid_.at(0, query, key), 0, 'f', 4);
  if (const int s = displayStride(); s > 1) {
    tip += tr("\ndrawn: the mean of %1 \u00d7 %1 tokens, %2 (zoom in for single cells)")
               .arg(s)
               .arg(pyramid_.at(level_, query / s, key / s), 0, 'f', 4);
  }
  return tip;
}

bool HeatmapPanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == plot_ && event->type() == QEvent::ToolTip) {
    auto* help = static_cast<QHelpEvent*>(event);
    const QString tip = toolTipAt(help->pos());
    if (tip.isEmpty()) {
      QToolTip::hideText();
    } else {
      QToolTip::showText(help->globalPos(), tip, plot_);
    }
    return true;
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace kvs::ui
