// HeatmapPanel's connections to the session, its export entries and what an export writes: the
// figure's decoration, the CSV and the view's description (heatmap_panel.h).

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>
#include <cmath>
#include "qcustomplot_include.h"

#include "export_menu.h"
#include "figure_decoration.h"
#include "heatmap_panel.h"
#include "marker_legend.h"
#include "merging_sets_item.h"
#include "session_controller.h"
#include "token_fates.h"

namespace kvs::ui {
namespace {

// A CSV field that may hold commas, quotes or line breaks (a token's piece).
QString quoted(QString text) {
  return '"' + text.replace('"', QStringLiteral("\"\"")) + '"';
}

}  // namespace

void HeatmapPanel::wire(SessionController* c, ExportMenu* exportMenu) {
  connect(c, &SessionController::promptReady, this, &HeatmapPanel::setPrompt);
  connect(c, &SessionController::layoutReady, this, &HeatmapPanel::setLayout);
  connect(c, &SessionController::similarityReady, this, &HeatmapPanel::setMatrix);
  connect(this, &HeatmapPanel::matrixRequested, c, &SessionController::requestSimilarity);
  setSettingSource([c] { return c->params(); });
  if (!exportMenu) return;
  exportMenu->addView(this);
  exportMenu->addEntry(
      QStringLiteral("heatmap-all"), tr("Export heatmaps of &all layers..."),
      [this, exportMenu](const ExportRequest& r) { return exportAllLayers(r, *exportMenu); },
      QSizeF(3.5, 3.5));
}

QVector<ExportFigure> HeatmapPanel::exportFigures() const {
  return {{QStringLiteral("heatmap"), tr("Export &heatmap..."), plot_, QString(),
           QKeySequence(Qt::CTRL | Qt::Key_E), QSizeF(3.5, 3.5)}};
}

std::unique_ptr<ExportDecoration> HeatmapPanel::decorate(const QString&, const ExportRequest& r) {
  auto d = std::make_unique<FigureDecoration>(plot_);
  d->leaveOut(variantLabel_);  // the title says it when one is asked for
  if (r.title) d->addTitle(titleText());
  const QVector<Marker> marks = overlay_->markers();
  if (r.legend && !marks.isEmpty()) d->addBelow(new MarkerLegend(plot_, marks));
  d->setSquare(true);     // square cells on any page
  d->setLaidOut([this] {  // token pieces as labels: as many as the figure's axes have room for
    const QCPRange xr = plot_->xAxis->range(), yr = plot_->yAxis->range();
    updateTicks(std::max(xr.lower, yr.lower), std::min(xr.upper, yr.upper));
  });
  return d;
}

QString HeatmapPanel::exportAllLayers(const ExportRequest& request, const ExportMenu& menu) {
  if (prompt_.layers == 0) return tr("run a prompt first");
  const int shownHead = head();
  const QFileInfo info(request.path);
  for (int l = 0; l < prompt_.layers; ++l) {
    select(l, shownHead);
    QElapsedTimer waited;
    waited.start();
    while (!showsSelection()) {
      if (waited.elapsed() > 60000) return tr("layer %1's matrix did not arrive").arg(l);
      QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    }
    ExportRequest r = request;
    r.path = info.dir().filePath(
        QStringLiteral("%1_layer%2.%3").arg(info.completeBaseName()).arg(l).arg(info.suffix()));
    if (QString e = menu.exportFigure(QStringLiteral("heatmap"), r); !e.isEmpty()) return e;
  }
  return {};
}

QString HeatmapPanel::csv() const {
  QString out;
  QTextStream s(&out);
  if (pyramid_.empty()) return out;
  const auto [c0, c1] = viewTokens(plot_->xAxis->range());
  const auto [r0, r1] = viewTokens(plot_->yAxis->range());
  s << "query\\key";
  for (int c = c0; c <= c1; ++c) s << ',' << c;
  s << '\n';
  for (int r = r0; r <= r1; ++r) {
    s << r;
    for (int c = c0; c <= c1; ++c) s << ',' << pyramid_.at(0, r, c);
    s << '\n';
  }
  return out;
}

CsvMaker HeatmapPanel::figureCsv(const QString&) const {
  if (pyramid_.empty()) return [] { return QString(); };
  const auto [c0, c1] = viewTokens(plot_->xAxis->range());
  const auto [r0, r1] = viewTokens(plot_->yAxis->range());
  // Rows and columns over the same tokens, so every column's token has its row (piece, fate).
  const int first = std::min(c0, r0), last = std::max(c1, r1), n = last - first + 1;
  std::vector<float> values(size_t(n) * n);  // a copy: the text is made on another thread
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) values[size_t(r) * n + c] = pyramid_.at(0, first + r, first + c);
  }
  const bool sets = !overlay_->head().slots.empty();
  return [first, n, values = std::move(values), sets, pieces = prompt_.pieces,
          fates = tokenFates(overlay_->head(), pyramid_.size())] {
    QString out;
    QTextStream s(&out);
    s << "token,piece,set_first,set_last,pivot,fate";
    for (int c = 0; c < n; ++c) s << ',' << first + c;
    s << '\n';
    for (int r = 0; r < n; ++r) {
      const int t = first + r;
      s << t << ',' << quoted(pieces.value(t));
      if (sets) {
        const TokenFate& f = fates[t];
        const bool held = f.fate != Fate::kEvicted;  // an evicted token is in no set
        s << ',' << (held ? QString::number(f.first) : QString()) << ','
          << (held ? QString::number(f.last) : QString()) << ','
          << (held ? QString::number(f.pivot) : QString()) << ',' << fateName(f.fate);
      } else {
        s << ",,,,";  // no sets drawn (none computed, hidden, or the mean of per-head layouts)
      }
      for (int c = 0; c < n; ++c) s << ',' << values[size_t(r) * n + c];
      s << '\n';
    }
    return out;
  };
}

QJsonObject HeatmapPanel::decisionsJson() const {
  // Every head's threshold (null where none applied), searched per head when the budget is exact,
  // so a figure's sidecar never shows only the eps that was given.
  QJsonArray eps, released;
  for (const auto& layer : layout_.layout.heads) {
    QJsonArray e, r;
    for (const HeadLayout& head : layer) {
      e.append(std::isnan(head.eps) ? QJsonValue() : QJsonValue(head.eps));
      r.append(head.releasedProtected);
    }
    eps.append(e);
    released.append(r);
  }
  return {{"exact_budget", layout_.params.exactBudget},
          {"eps_used", eps},
          {"protected_released", released}};
}

QJsonObject HeatmapPanel::viewJson() const {
  QJsonObject o;
  o["view"] = "heatmap";
  o["source"] = QString::fromUtf8(toString(static_cast<SimilaritySource>(source())));
  o["layer"] = layer();
  o["head"] = head();
  o["tokens"] = tokens();
  o["colour_map"] = gradient_->currentText();
  o["x_range"] = QJsonArray{plot_->xAxis->range().lower, plot_->xAxis->range().upper};
  o["y_range"] = QJsonArray{plot_->yAxis->range().lower, plot_->yAxis->range().upper};
  o["merged_sets_drawn"] = overlay_->blockCount();
  o["title"] = titleText();
  if (!layout_.layout.heads.empty()) {
    // The setting whose sets are drawn: a Compare row's may differ from "params".
    const QByteArray p = QByteArray::fromStdString(kvs::toJson(layout_.params).dump());
    o["sets"] =
        QJsonObject{{"params", QJsonDocument::fromJson(p).object()},
                    {"from", showsOtherSetting() ? "a compared variant" : "the parameters panel"}};
  }
  return o;
}

}  // namespace kvs::ui
