#include "main_window.h"

#include <QDockWidget>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QStatusBar>
#include <QTableView>
#include <QTimer>

#include "compare_panel.h"
#include "empty_state.h"
#include "eval_panel.h"
#include "export_menu.h"
#include "heatmap_panel.h"
#include "layer_ratio_panel.h"
#include "memory_panel.h"
#include "output_panel.h"
#include "overview_panel.h"
#include "parameters_panel.h"
#include "prompt_panel.h"
#include "prompt_token_counter.h"
#include "recording_controls.h"
#include "recording_state.h"
#include "run_control.h"
#include "session_controller.h"
#include "sweep_panel.h"
#include "token_table_model.h"
#include "util/blas_info.h"

namespace kvs::ui {

QString absolutePath(const QString& path) {
  return path.isEmpty() ? path : QFileInfo(path).absoluteFilePath();
}

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
  auto* ratios = new LayerRatioPanel(this);
  evaluation_ = new EvalPanel(this);  // before the menus: File opens its results
  sweep_ = new SweepPanel(this);
  tokens_ = new TokenTableModel(this);
  auto* tokenView = new QTableView(this);
  tokenView->setObjectName("tokenTable");
  tokenView->setModel(tokens_);
  tokenView->verticalHeader()->hide();
  tokenView->horizontalHeader()->setStretchLastSection(true);
  runControl_ =
      new RunControl(controller_, promptPanel_, parameters_, outputPanel_, statusBar(), this);
  recording_ = new RecordingControls(controller_->recording(), runControl_, this);
  connect(runControl_, &RunControl::opened, this, &MainWindow::rememberModel);
  connect(runControl_, &RunControl::runStarting, this, &MainWindow::saveSettings);
  createMenus();

  // The heatmap first: the token fates read the layout it has just drawn.
  heatmap_->wire(controller_, exportMenu_);
  memory_->wire(controller_, exportMenu_);
  overview_->wire(controller_, exportMenu_, heatmap_);
  // Before the first overview the curve plot would show bare axes and a diagonal eps line.
  const std::pair<const char*, QString> overviewPlots[] = {
      {"adjacentCurves", tr("Run a prompt to see how similar adjacent keys are, against eps.")},
      {"thumbnails", tr("Run a prompt to see every head's matrix.")}};
  for (const auto& [name, text] : overviewPlots) {
    auto* plot = overview_->findChild<QWidget*>(QString::fromLatin1(name));
    if (!plot) continue;
    auto* empty = new EmptyState(plot, text);
    connect(controller_, &SessionController::overviewReady, empty, &QWidget::hide);
  }
  compare_->wire(controller_, exportMenu_, parameters_);
  ratios->wire(controller_, exportMenu_, parameters_);  // the paper's second observation
  sweep_->wire(controller_, exportMenu_, parameters_);   // quality against a parameter (issue 20)
  evaluation_->wire(controller_, exportMenu_, parameters_);  // issue 13's evaluations
  connect(runControl_, &RunControl::opened, evaluation_, &EvalPanel::setModelPath);
  // "Show on the heatmap" of a LongBench sample: its prompt here, its setting in Parameters
  // (emitted right after), then a Run once both are in place.
  connect(evaluation_, &EvalPanel::sampleChosen, this, [this](const QString& prompt) {
    GenerationJob job = promptPanel_->job();
    job.prompt = prompt;
    job.chat = false;  // the text already holds LongBench's [INST] wrapping where it has one
    promptPanel_->setJob(job);
    QTimer::singleShot(0, runControl_, &RunControl::run);
  });
  outputPanel_->wire(controller_, heatmap_, tokens_);

  setCentralWidget(heatmap_);
  docks_.prompt = addDock(promptPanel_, tr("Prompt"), "promptDock");
  docks_.parameters = addDock(parameters_, tr("Parameters"), "parametersDock");
  docks_.output = addDock(outputPanel_, tr("Output"), "outputDock");
  docks_.compare = addDock(compare_, tr("Compare"), "compareDock");
  docks_.sweep = addDock(sweep_, tr("Sweep"), "sweepDock");
  docks_.layerRatios = addDock(ratios, tr("Layer ratios"), "layerRatioDock");
  docks_.evaluation = addDock(evaluation_, tr("Evaluation"), "evaluationDock");
  docks_.overview = addDock(overview_, tr("Overview"), "overviewDock");
  docks_.memory = addDock(memory_, tr("Memory"), "memoryDock");
  docks_.tokens = addDock(tokenView, tr("Tokens"), "tokensDock");
  tokenCounter_ = new PromptTokenCounter(promptPanel_, this);
  connect(runControl_, &RunControl::opened, tokenCounter_, &PromptTokenCounter::setModel);

  statusBar()->addPermanentWidget(recording_->label());
  statusBar()->addPermanentWidget(runControl_->modelLabel());
  statusBar()->addPermanentWidget(blasLabel());
  // A long model description (a Hugging Face folder's) is clipped rather than widening the
  // window past a laptop's screen; its tooltip has all of it.
  runControl_->modelLabel()->setMinimumWidth(120);
  connect(controller_, &SessionController::modelLoaded, runControl_->modelLabel(),
          [label = runControl_->modelLabel()](const QString& description) {
            label->setToolTip(description);
          });

  const QString savedPath = restoreSettings();
  QString path = absolutePath(modelPath);
  if (path.isEmpty()) path = savedPath;
  if (path.isEmpty()) path = QStringLiteral(KVS_DEFAULT_MODEL);
  if (RunControl::isRecordingPath(path)) {  // kvstudio recording.h5: explore it without a model
    promptPanel_->setModelPath(savedPath.isEmpty() ? QStringLiteral(KVS_DEFAULT_MODEL) : savedPath);
    runControl_->openRecording(path);
    return;
  }
  openModel(path);
}

MainWindow::~MainWindow() {
  saveSettings();
}

SessionWorker* MainWindow::worker() const {
  return controller_->worker();
}

QString MainWindow::exportView(const QString& figure, const ExportRequest& request) {
  return exportMenu_->exportFigure(figure, request);
}

void MainWindow::armRecording(const RecordingOptions& options) {
  controller_->recording()->arm(options);
}

bool MainWindow::recordingArmed() const {
  return controller_->recording()->armed();
}

void MainWindow::openRecording(const QString& path) {
  runControl_->openRecording(absolutePath(path));
}

void MainWindow::openModel(const QString& path) {
  promptPanel_->setModelPath(absolutePath(path));
  runControl_->loadModel(absolutePath(path));
}

QLabel* MainWindow::blasLabel() {
  auto* label = new QLabel(this);
  label->setObjectName("blasLabel");
  const BlasInfo blas = detectBlas();
  const QString text = QString::fromStdString(describeBlas(blas));
  // The path makes the label too wide for the status bar; a slow BLAS is worth the space.
  label->setText(tr("BLAS: %1").arg(blas.slow ? text : QString::fromStdString(blas.name)));
  label->setToolTip(text);
  if (blas.slow) label->setStyleSheet("color: #c01010");
  return label;
}

// Placed by arrangeDocks (main_layout.cpp).
QDockWidget* MainWindow::addDock(QWidget* panel, const QString& title, const char* name) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(name);  // saveState needs names
  dock->setWidget(panel);
  viewMenu_->addAction(dock->toggleViewAction());
  return dock;
}

QString MainWindow::restoreSettings() {
  QSettings settings;
  GenerationJob job;
  job.prompt = settings.value("prompt/text", QStringLiteral("Once upon a time")).toString();
  job.newTokens = settings.value("generation/newTokens", job.newTokens).toInt();
  job.temperature = settings.value("generation/temperature", job.temperature).toDouble();
  job.topP = settings.value("generation/topP", job.topP).toDouble();
  job.seed = settings.value("generation/seed", job.seed).toULongLong();
  job.chat = settings.value("prompt/chat", false).toBool();
  job.system = settings.value("prompt/system").toString();
  promptPanel_->setJob(job);
  parameters_->restoreSettings(settings);
  heatmap_->setColourMapName(settings.value("view/colourMap", "viridis").toString());
  if (!restoreLayout(settings)) resetLayout();
  return settings.value("model/path").toString();
}

void MainWindow::saveSettings() const {
  QSettings settings;
  const GenerationJob job = promptPanel_->job();
  // Absolute, so that the app started from another folder finds it.
  settings.setValue("model/path", absolutePath(promptPanel_->modelPath()));
  settings.setValue("prompt/text", job.prompt);
  settings.setValue("generation/newTokens", job.newTokens);
  settings.setValue("generation/temperature", job.temperature);
  settings.setValue("generation/topP", job.topP);
  settings.setValue("generation/seed", job.seed);
  settings.setValue("prompt/chat", job.chat);
  settings.setValue("prompt/system", job.system);
  parameters_->saveSettings(settings);
  settings.setValue("view/colourMap", heatmap_->colourMapName());
  saveLayout(settings);
}

}  // namespace kvs::ui
