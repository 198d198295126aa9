// HeatmapPanel's connections to the session and its export entries (heatmap_panel.h).

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>

#include "export_menu.h"
#include "heatmap_panel.h"
#include "session_controller.h"

namespace kvs::ui {

void HeatmapPanel::wire(SessionController* c, ExportMenu* exportMenu) {
  connect(c, &SessionController::promptReady, this, &HeatmapPanel::setPrompt);
  connect(c, &SessionController::layoutReady, this, &HeatmapPanel::setLayout);
  connect(c, &SessionController::similarityReady, this, &HeatmapPanel::setMatrix);
  connect(this, &HeatmapPanel::matrixRequested, c, &SessionController::requestSimilarity);
  if (!exportMenu) return;
  exportMenu->addView(this);
  exportMenu->addEntry(
      QStringLiteral("heatmap-all"), tr("Export heatmaps of &all layers..."),
      [this, exportMenu](const ExportRequest& r) { return exportAllLayers(r, *exportMenu); });
}

QVector<ExportFigure> HeatmapPanel::exportFigures() const {
  return {{QStringLiteral("heatmap"), tr("Export &heatmap..."), plot_, QString(),
           QKeySequence(Qt::CTRL | Qt::Key_E)}};
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

}  // namespace kvs::ui
