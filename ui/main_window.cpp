#include "main_window.h"

#include <QAction>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QStatusBar>
#include <QTableView>

#include "compare_panel.h"
#include "export_dialog.h"
#include "export_sidecar.h"
#include "heatmap_panel.h"
#include "layer_ratio_panel.h"
#include "layer_ratio_wiring.h"
#include "memory_panel.h"
#include "merging_sets_item.h"
#include "output_panel.h"
#include "overview_panel.h"
#include "parameters_panel.h"
#include "record_dialog.h"
#include "session_controller.h"
#include "session_worker.h"
#include "token_table_model.h"
#include "util/blas_info.h"

#include <qcustomplot.h>

namespace kvs::ui {
namespace {

QString stopText(const QString& reason) {
  if (reason == "steps") return MainWindow::tr("reached Steps");
  if (reason == "stop_token") return MainWindow::tr("end of text");
  if (reason == "cancelled") return MainWindow::tr("stopped");
  return reason;
}

}  // namespace

MainWindow::MainWindow(const QString& modelPath, QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("KV Studio"));
  setDockNestingEnabled(true);
  controller_ = new SessionController(this);
  promptPanel_ = new PromptPanel(this);
  outputPanel_ = new OutputPanel(this);
  parameters_ = new ParametersPanel(this);
  heatmap_ = new HeatmapPanel(this);
  memory_ = new MemoryPanel(this);
  overview_ = new OverviewPanel(this);
  compare_ = new ComparePanel(this);
  tokens_ = new TokenTableModel(this);
  auto* tokenView = new QTableView(this);
  tokenView->setObjectName("tokenTable");
  tokenView->setModel(tokens_);
  tokenView->verticalHeader()->hide();
  tokenView->horizontalHeader()->setStretchLastSection(true);
  setCentralWidget(heatmap_);
  createMenus();
  addDock(promptPanel_, tr("Prompt"), "promptDock", Qt::LeftDockWidgetArea);
  addDock(parameters_, tr("Parameters"), "parametersDock", Qt::LeftDockWidgetArea);
  addDock(outputPanel_, tr("Output"), "outputDock", Qt::BottomDockWidgetArea);
  addDock(overview_, tr("Overview"), "overviewDock", Qt::RightDockWidgetArea);
  addDock(memory_, tr("Memory"), "memoryDock", Qt::RightDockWidgetArea);
  addDock(tokenView, tr("Tokens"), "tokensDock", Qt::RightDockWidgetArea);
  addDock(compare_, tr("Compare"), "compareDock", Qt::BottomDockWidgetArea);
  tabifyDockWidget(findChild<QDockWidget*>("outputDock"), findChild<QDockWidget*>("compareDock"));
  findChild<QDockWidget*>("outputDock")->raise();
  // Memory and Tokens share a place under the overview.
  tabifyDockWidget(findChild<QDockWidget*>("memoryDock"), findChild<QDockWidget*>("tokensDock"));
  findChild<QDockWidget*>("memoryDock")->raise();

  modelLabel_ = new QLabel(tr("No model loaded"), this);
  modelLabel_->setObjectName("modelLabel");
  blasLabel_ = new QLabel(this);
  blasLabel_->setObjectName("blasLabel");
  const BlasInfo blas = detectBlas();
  const QString blasText = QString::fromStdString(describeBlas(blas));
  // The path makes the label too wide for the status bar; a slow BLAS is worth the space.
  blasLabel_->setText(tr("BLAS: %1").arg(blas.slow ? blasText : QString::fromStdString(blas.name)));
  blasLabel_->setToolTip(blasText);
  if (blas.slow) blasLabel_->setStyleSheet("color: #c01010");
  recordingLabel_ = new QLabel(this);
  recordingLabel_->setObjectName("recordingLabel");
  statusBar()->addPermanentWidget(recordingLabel_);
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->addPermanentWidget(blasLabel_);

  auto* c = controller_;
  connect(c, &SessionController::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(c, &SessionController::textReady, outputPanel_, &OutputPanel::appendText);
  connect(c, &SessionController::progress, outputPanel_, &OutputPanel::setProgress);
  connect(c, &SessionController::finished, this, &MainWindow::onFinished);
  connect(c, &SessionController::failed, this, &MainWindow::onFailed);
  connect(c, &SessionController::recordingDone, this, &MainWindow::onRecordingDone);
  connect(c, &SessionController::recordingOpened, this, &MainWindow::onRecordingOpened);
  connect(c, &SessionController::busyChanged, this, &MainWindow::onBusy);
  connect(c, &SessionController::phase, this,
          [this](const QString& what) { statusBar()->showMessage(what + "..."); });
  // First: a new prompt needs a new overview (the heatmap's setPrompt below asks for it).
  connect(c, &SessionController::promptReady, this, [this] { overviewSource_ = -1; });
  connect(c, &SessionController::promptReady, heatmap_, &HeatmapPanel::setPrompt);
  connect(c, &SessionController::layoutReady, heatmap_, &HeatmapPanel::setLayout);
  connect(c, &SessionController::layoutReady, this, [this](const LayoutResult& r) {
    parameters_->showLayoutInfo(
        r.layout.error.empty()
            ? tr("layout in %1 ms").arg(r.ms, 0, 'f', 1)
            : tr("cannot apply: %1").arg(QString::fromStdString(r.layout.error)));
  });
  connect(c, &SessionController::similarityReady, heatmap_, &HeatmapPanel::setMatrix);
  connect(c, &SessionController::referenceReady, outputPanel_, [this](const VariantSummary& s) {
    outputPanel_->setReference(controller_->prompt().text + s.text);
  });
  connect(c, &SessionController::variantReady, this, [this](const VariantSummary& s) {
    outputPanel_->setTexts(controller_->prompt().text, s.text);
    memory_->setVariant(s);
    updateTokenViews();
  });
  connect(c, &SessionController::layoutReady, this, &MainWindow::updateTokenViews);
  connect(heatmap_, &HeatmapPanel::selectionChanged, this, &MainWindow::updateTokenViews);
  connect(heatmap_, &HeatmapPanel::matrixRequested, c, &SessionController::requestSimilarity);
  connect(heatmap_, &HeatmapPanel::matrixRequested, this, [this](int source) {
    if (source == overviewSource_) return;
    overviewSource_ = source;
    controller_->requestOverview(source, 48);
  });
  connect(c, &SessionController::overviewReady, overview_, &OverviewPanel::setOverview);
  connect(c, &SessionController::layoutReady, overview_, &OverviewPanel::setLayout);
  connect(overview_, &OverviewPanel::headClicked, heatmap_, &HeatmapPanel::select);
  connect(heatmap_, &HeatmapPanel::selectionChanged, overview_, &OverviewPanel::setSelection);
  connect(parameters_, &ParametersPanel::paramsChanged, c, &SessionController::setParams);
  connect(parameters_, &ParametersPanel::paramsChanged, compare_, &ComparePanel::setCurrentParams);
  compare_->setCurrentParams(parameters_->params());
  connect(compare_, &ComparePanel::compareRequested, this,
          [this](const QVector<CompressionParams>& variants) {
            if (state_ != PromptPanel::State::kReady || !controller_->hasPrompt()) return;
            setState(PromptPanel::State::kRunning);
            controller_->compare(variants);
          });
  connect(c, &SessionController::compareReady, compare_, &ComparePanel::setResult);
  connect(compare_, &ComparePanel::rowSelected, c, &SessionController::previewLayout);
  connect(promptPanel_, &PromptPanel::loadRequested, this, &MainWindow::loadModel);
  connect(promptPanel_, &PromptPanel::runRequested, this, &MainWindow::run);
  connect(promptPanel_, &PromptPanel::stopRequested, this, &MainWindow::stop);
  installLayerRatioPanel(this, viewMenu_);  // the paper's second observation (own dock)

  const QString savedPath = restoreSettings();
  QString path = modelPath;
  if (path.isEmpty()) path = savedPath;
  if (path.isEmpty()) path = QStringLiteral(KVS_DEFAULT_MODEL);
  if (isRecordingPath(path)) {  // kvstudio recording.h5: explore it without a model
    promptPanel_->setModelPath(savedPath.isEmpty() ? QStringLiteral(KVS_DEFAULT_MODEL) : savedPath);
    openRecording(path);
    return;
  }
  promptPanel_->setModelPath(path);
  loadModel(path);
}

MainWindow::~MainWindow() {
  saveSettings();
}

SessionWorker* MainWindow::worker() const {
  return controller_->worker();
}

void MainWindow::updateTokenViews() {
  const PromptInfo& p = controller_->prompt();
  const QVector<TokenFate> fates = tokenFates(heatmap_->overlay()->head(), p.ids.size());
  tokens_->setTokens(p.ids, p.pieces, fates);
  outputPanel_->setTokenFates(p.charEnds, p.ids, p.pieces, fates);
}

QString MainWindow::exportView(const QString& view, const ExportRequest& request) {
  QCustomPlot* plot = heatmap_->plot();
  QString csv = heatmap_->csv();
  QJsonObject json = heatmap_->viewJson();
  if (view.startsWith("memory")) {
    plot = view == "memory-layers" ? memory_->layerPlot() : memory_->stepsPlot();
    csv = memory_->csv();
    json = memory_->viewJson();
  }
  if (view == "adjacent") {
    plot = overview_->curvePlot();
    csv = overview_->csv();
    json = QJsonObject{{"view", "adjacent"},
                       {"layer", heatmap_->layer()},
                       {"head", heatmap_->head()},
                       {"eps", overview_->epsLine()}};
  }
  if (const auto* ratios = findChild<LayerRatioPanel*>(); ratios && view == "layer-ratio") {
    plot = ratios->plot();
    csv = ratios->csv();
    json = ratios->viewJson();
  }
  json["panel"] = view;
  QJsonObject sidecar =
      exportSidecar(controller_->prompt(), promptPanel_->job(), controller_->params(), json);
  sidecar["merging_decisions"] = heatmap_->decisionsJson();
  return exportPlot(plot, request, csv, sidecar);
}

QString MainWindow::exportAllLayers(const ExportRequest& request) {
  if (!controller_->hasPrompt()) return tr("run a prompt first");
  const int head = heatmap_->head();
  const QFileInfo info(request.path);
  for (int l = 0; l < controller_->prompt().layers; ++l) {
    heatmap_->select(l, head);
    QElapsedTimer waited;
    waited.start();
    while (!heatmap_->showsSelection()) {
      if (waited.elapsed() > 60000) return tr("layer %1's matrix did not arrive").arg(l);
      QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 50);
    }
    ExportRequest r = request;
    r.path = info.dir().filePath(
        QStringLiteral("%1_layer%2.%3").arg(info.completeBaseName()).arg(l).arg(info.suffix()));
    if (QString e = exportView("heatmap", r); !e.isEmpty()) return e;
  }
  return {};
}

void MainWindow::exportWithDialog(const QString& view) {
  QSettings settings;
  const QString dir = settings.value("export/dir", QDir::homePath()).toString();
  ExportDialog dialog(QDir(dir).filePath(QStringLiteral("kvstudio-%1.png").arg(view)), this);
  if (dialog.exec() != QDialog::Accepted) return;
  const ExportRequest request = dialog.request();
  settings.setValue("export/dir", QFileInfo(request.path).absolutePath());
  const QString error =
      view == "heatmap-all" ? exportAllLayers(request) : exportView(view, request);
  if (error.isEmpty()) {
    statusBar()->showMessage(tr("Exported %1 with its .csv and .json").arg(request.path), 8000);
  } else {
    onFailed(error);
  }
}

void MainWindow::addDock(QWidget* panel, const QString& title, const char* name,
                         Qt::DockWidgetArea area) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(name);  // saveState needs names
  dock->setWidget(panel);
  addDockWidget(area, dock);
  viewMenu_->addAction(dock->toggleViewAction());
}

void MainWindow::loadModel(const QString& path) {
  if (isRecordingPath(path)) {
    openRecording(path);
    return;
  }
  if (state_ != PromptPanel::State::kNoModel && state_ != PromptPanel::State::kReady) return;
  setState(PromptPanel::State::kLoading);
  loadingPath_ = path;
  modelLabel_->setText(tr("Loading..."));
  statusBar()->showMessage(tr("Loading %1").arg(path));
  controller_->loadModel(path);
}

void MainWindow::run() {
  if (state_ != PromptPanel::State::kReady) return;
  const GenerationJob job = promptPanel_->job();
  if (armed_) {
    // Asked here, in the GUI thread, in case the file appeared since it was chosen.
    if (!armed_->overwrite) {
      if (!confirmOverwrite(this, QString::fromStdString(armed_->path))) return;
      armed_->overwrite = true;
    }
    controller_->recordNextRun(*armed_);
    recordingLabel_->setStyleSheet({});  // a previous failure left it red
    recordingLabel_->setText(tr("Recording to %1...").arg(QString::fromStdString(armed_->path)));
    armed_.reset();  // the next run only
    recordAction_->setChecked(false);
  }
  saveSettings();
  outputPanel_->clear();
  outputPanel_->startProgress(job.steps);
  statusBar()->showMessage(tr("Generating..."));
  setState(PromptPanel::State::kRunning);
  controller_->run(job, parameters_->params());
}

void MainWindow::stop() {
  if (state_ != PromptPanel::State::kRunning && state_ != PromptPanel::State::kLoading) return;
  controller_->stop();
  statusBar()->showMessage(tr("Stopping..."));
  if (state_ == PromptPanel::State::kRunning) setState(PromptPanel::State::kStopping);
}

void MainWindow::onModelLoaded(const QString& description, int contextLength) {
  modelLabel_->setText(description);
  promptPanel_->setContextLength(contextLength);
  rememberModel(loadingPath_);
  statusBar()->showMessage(tr("Model loaded"), 5000);
  setState(PromptPanel::State::kReady);
}

void MainWindow::onBusy(bool busy) {
  // A parameter change decodes again: Stop applies to it as to a run.
  if (busy && state_ == PromptPanel::State::kReady) setState(PromptPanel::State::kRunning);
}

void MainWindow::onFinished(const GenerationStats& s) {
  if (s.stopReason == "compared") {
    statusBar()->showMessage(tr("Compared %1 variants with the full cache").arg(s.generatedTokens));
    if (!controller_->busy()) setState(PromptPanel::State::kReady);
    return;
  }
  statusBar()->showMessage(tr("%1 tokens (%2), prefill %3 tokens in %4 ms, %5 tokens/s")
                               .arg(s.generatedTokens)
                               .arg(stopText(s.stopReason))
                               .arg(s.promptTokens)
                               .arg(s.prefillMs, 0, 'f', 1)
                               .arg(s.decodeTokensPerSecond, 0, 'f', 0));
  if (!controller_->busy()) setState(PromptPanel::State::kReady);
}

void MainWindow::onFailed(const QString& message) {
  if (openingRecording_) {  // the worker kept what it had
    openingRecording_ = false;
    modelLabel_->setText(labelBeforeOpen_);
    setState(stateBeforeOpen_);
    statusBar()->showMessage(tr("Error: %1").arg(message));
    outputPanel_->showError(message);
    return;
  }
  // A failed load leaves no model (the worker drops the old one first); a failed run keeps it.
  if (state_ == PromptPanel::State::kLoading) {
    modelLabel_->setText(tr("No model loaded"));
    setState(PromptPanel::State::kNoModel);
  } else if (!controller_->busy() && !controller_->recordingOpen()) {  // a recording: no model
    setState(PromptPanel::State::kReady);
  }
  statusBar()->showMessage(tr("Error: %1").arg(message));
  outputPanel_->showError(message);
}

void MainWindow::setState(PromptPanel::State state) {
  state_ = state;
  promptPanel_->setState(state);
}

QString MainWindow::restoreSettings() {
  QSettings settings;
  GenerationJob job;
  job.prompt = settings.value("prompt/text", QStringLiteral("Once upon a time")).toString();
  job.steps = settings.value("generation/steps", job.steps).toInt();
  job.temperature = settings.value("generation/temperature", job.temperature).toDouble();
  job.topP = settings.value("generation/topP", job.topP).toDouble();
  job.seed = settings.value("generation/seed", job.seed).toULongLong();
  job.chat = settings.value("prompt/chat", false).toBool();
  job.system = settings.value("prompt/system").toString();
  promptPanel_->setJob(job);
  parameters_->restoreSettings(settings);
  heatmap_->setColourMapName(settings.value("view/colourMap", "viridis").toString());
  if (!restoreGeometry(settings.value("window/geometry").toByteArray())) resize(1400, 860);
  restoreState(settings.value("window/state").toByteArray());
  return settings.value("model/path").toString();
}

void MainWindow::saveSettings() const {
  QSettings settings;
  const GenerationJob job = promptPanel_->job();
  settings.setValue("model/path", promptPanel_->modelPath());
  settings.setValue("prompt/text", job.prompt);
  settings.setValue("generation/steps", job.steps);
  settings.setValue("generation/temperature", job.temperature);
  settings.setValue("generation/topP", job.topP);
  settings.setValue("generation/seed", job.seed);
  settings.setValue("prompt/chat", job.chat);
  settings.setValue("prompt/system", job.system);
  parameters_->saveSettings(settings);
  settings.setValue("view/colourMap", heatmap_->colourMapName());
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
}

}  // namespace kvs::ui
