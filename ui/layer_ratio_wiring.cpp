#include "layer_ratio_wiring.h"

// Core headers (through these) before Qt's: some core structs have members named `slots`.
#include "layer_ratio_panel.h"
#include "main_window.h"
#include "parameters_panel.h"
#include "session_controller.h"
#include "session_worker.h"

#include <QAction>
#include <QDockWidget>
#include <QMenu>
#include <atomic>
#include <memory>

namespace kvs::ui {

LayerRatioPanel* installLayerRatioPanel(MainWindow* w, QMenu* viewMenu) {
  auto* panel = new LayerRatioPanel(w);
  auto* dock = new QDockWidget(MainWindow::tr("Layer ratios"), w);
  dock->setObjectName("layerRatioDock");  // saveState needs names
  dock->setWidget(panel);
  w->addDockWidget(Qt::BottomDockWidgetArea, dock);
  if (auto* compare = w->findChild<QDockWidget*>("compareDock")) w->tabifyDockWidget(compare, dock);
  if (viewMenu) viewMenu->addAction(dock->toggleViewAction());

  SessionController* c = w->controller();
  SessionWorker* worker = c->worker();
  QObject::connect(w->parameters(), &ParametersPanel::paramsChanged, panel,
                   &LayerRatioPanel::setParams);
  panel->setParamsSource([p = w->parameters()] { return p->params(); });
  QObject::connect(c, &SessionController::promptReady, panel, &LayerRatioPanel::setPrompt);
  QObject::connect(c, &SessionController::layoutReady, panel, &LayerRatioPanel::setLayout);
  // The worker lives on its own thread: the request is queued there, the result queued back.
  // The current prompt's curve is asked for on every parameter change (a slider drag asks many
  // times): a request that a newer one has replaced by the time the worker reaches it is dropped.
  auto newestCurrent = std::make_shared<std::atomic<quint64>>(0);
  QObject::connect(panel, &LayerRatioPanel::ratiosRequested, panel,
                   [worker, newestCurrent](const LayerRatioRequest& r) {
                     const bool batch = !r.promptsFile.isEmpty();
                     // A batch is new work, as a run is: a Stop pressed earlier must not end it.
                     if (batch) worker->clearStop();
                     if (!batch) newestCurrent->store(r.ticket);
                     QMetaObject::invokeMethod(
                         worker,
                         [worker, r, batch, newestCurrent] {
                           if (batch || newestCurrent->load() == r.ticket)
                             worker->computeLayerRatios(r);
                         },
                         Qt::QueuedConnection);
                   });
  QObject::connect(worker, &SessionWorker::layerRatiosReady, panel, &LayerRatioPanel::setResult);
  QObject::connect(panel, &LayerRatioPanel::exportRequested, w, [w] {
    if (auto* action = w->findChild<QAction*>("exportLayerRatios")) action->trigger();
  });
  return panel;
}

}  // namespace kvs::ui
