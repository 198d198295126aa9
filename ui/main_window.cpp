#include "main_window.h"

#include <QLabel>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>

#include "generation_worker.h"
#include "output_panel.h"
#include "util/blas_info.h"

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
  promptPanel_ = new PromptPanel(this);
  outputPanel_ = new OutputPanel(this);
  auto* splitter = new QSplitter(Qt::Horizontal, this);
  splitter->addWidget(promptPanel_);
  splitter->addWidget(outputPanel_);
  splitter->setStretchFactor(0, 0);
  splitter->setStretchFactor(1, 1);
  splitter->setSizes({380, 720});
  setCentralWidget(splitter);

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
  statusBar()->addPermanentWidget(modelLabel_);
  statusBar()->addPermanentWidget(blasLabel_);

  worker_ = new GenerationWorker;  // no parent: it moves to thread_ and is deleted there
  worker_->moveToThread(&thread_);
  thread_.setObjectName("generation");
  connect(&thread_, &QThread::finished, worker_, &QObject::deleteLater);
  connect(worker_, &GenerationWorker::modelLoaded, this, &MainWindow::onModelLoaded);
  connect(worker_, &GenerationWorker::textReady, outputPanel_, &OutputPanel::appendText);
  connect(worker_, &GenerationWorker::progress, outputPanel_, &OutputPanel::setProgress);
  connect(worker_, &GenerationWorker::finished, this, &MainWindow::onFinished);
  connect(worker_, &GenerationWorker::failed, this, &MainWindow::onFailed);
  connect(promptPanel_, &PromptPanel::loadRequested, this, &MainWindow::loadModel);
  connect(promptPanel_, &PromptPanel::runRequested, this, &MainWindow::run);
  connect(promptPanel_, &PromptPanel::stopRequested, this, &MainWindow::stop);
  thread_.start();

  const QString savedPath = restoreSettings();
  QString path = modelPath;
  if (path.isEmpty()) path = savedPath;
  if (path.isEmpty()) path = QStringLiteral(KVS_DEFAULT_MODEL);
  promptPanel_->setModelPath(path);
  resize(1200, 720);
  loadModel(path);
}

MainWindow::~MainWindow() {
  saveSettings();
  worker_->requestStop();  // a running generation ends after its current token
  thread_.quit();
  thread_.wait();
}

void MainWindow::loadModel(const QString& path) {
  if (state_ != PromptPanel::State::kNoModel && state_ != PromptPanel::State::kReady) return;
  setState(PromptPanel::State::kLoading);
  modelLabel_->setText(tr("Loading..."));
  statusBar()->showMessage(tr("Loading %1").arg(path));
  QMetaObject::invokeMethod(
      worker_, [w = worker_, path] { w->loadModel(path); }, Qt::QueuedConnection);
}

void MainWindow::run() {
  if (state_ != PromptPanel::State::kReady) return;
  const GenerationJob job = promptPanel_->job();
  saveSettings();
  outputPanel_->clear();
  outputPanel_->startProgress(job.steps);
  statusBar()->showMessage(tr("Generating..."));
  setState(PromptPanel::State::kRunning);
  worker_->clearStop();
  QMetaObject::invokeMethod(
      worker_, [w = worker_, job] { w->generate(job); }, Qt::QueuedConnection);
}

void MainWindow::stop() {
  if (state_ != PromptPanel::State::kRunning) return;
  worker_->requestStop();
  statusBar()->showMessage(tr("Stopping..."));
  setState(PromptPanel::State::kStopping);
}

void MainWindow::onModelLoaded(const QString& description, int contextLength) {
  modelLabel_->setText(description);
  promptPanel_->setContextLength(contextLength);
  statusBar()->showMessage(tr("Model loaded"), 5000);
  setState(PromptPanel::State::kReady);
}

void MainWindow::onFinished(const GenerationStats& s) {
  statusBar()->showMessage(tr("%1 tokens (%2), prefill %3 tokens in %4 ms, %5 tokens/s")
                               .arg(s.generatedTokens)
                               .arg(stopText(s.stopReason))
                               .arg(s.promptTokens)
                               .arg(s.prefillMs, 0, 'f', 1)
                               .arg(s.decodeTokensPerSecond, 0, 'f', 0));
  setState(PromptPanel::State::kReady);
}

void MainWindow::onFailed(const QString& message) {
  // A failed load leaves no model (the worker drops the old one first); a failed run keeps it.
  if (state_ == PromptPanel::State::kLoading) {
    modelLabel_->setText(tr("No model loaded"));
    setState(PromptPanel::State::kNoModel);
  } else {
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
  promptPanel_->setJob(job);
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
}

}  // namespace kvs::ui
