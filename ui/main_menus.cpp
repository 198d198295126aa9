// MainWindow's menus: File (models, recordings, exports) and View, and the recent files list.

// Core headers first: some have members named `slots`, a Qt macro.
#include "io/recording_options.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>

#include "main_window.h"
#include "prompt_panel.h"

namespace kvs::ui {

void MainWindow::rememberModel(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value("model/recent").toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  settings.setValue("model/recent", recent.mid(0, 8));
  fillRecentMenu();
}

void MainWindow::fillRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = QSettings().value("model/recent").toStringList();
  for (const QString& path : recent) {
    recentMenu_->addAction(path, this, [this, path] {
      if (isRecordingPath(path)) {
        openRecording(path);
        return;
      }
      promptPanel_->setModelPath(path);
      loadModel(path);
    });
  }
  recentMenu_->setEnabled(!recent.isEmpty());
}

void MainWindow::createMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  QAction* open = file->addAction(tr("&Open model..."), this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open model"), QFileInfo(promptPanel_->modelPath()).absolutePath(),
        tr("Models: llama2.c .bin, or config.json / .safetensors of a Hugging Face folder "
           "(*.bin config.json *.safetensors);;All files (*)"));
    if (path.isEmpty()) return;
    promptPanel_->setModelPath(path);
    loadModel(path);
  });
  open->setShortcut(QKeySequence::Open);
  QAction* openRecordingAction =
      file->addAction(tr("Open &recording..."), this, [this] { chooseRecordingToOpen(); });
  openRecordingAction->setObjectName("openRecordingAction");
  openRecordingAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O));
  recentMenu_ = file->addMenu(tr("&Recent files"));
  recentMenu_->setObjectName("recentModels");
  fillRecentMenu();
  file->addSeparator();
  recordAction_ = file->addAction(tr("Record next run to &HDF5..."));
  recordAction_->setObjectName("recordAction");
  recordAction_->setCheckable(true);
  recordAction_->setToolTip(
      tr("The next Run writes its states to an HDF5 file, as "
         "kvstudio-cli generate --record"));
  connect(recordAction_, &QAction::triggered, this, [this](bool checked) {
    if (checked) {
      chooseRecordingOptions();
    } else {
      armed_.reset();
      showRecordingArmed();
    }
  });
  file->addSeparator();
  QAction* heatmap =
      file->addAction(tr("Export &heatmap..."), this, [this] { exportWithDialog("heatmap"); });
  heatmap->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_E));
  file->addAction(tr("Export heatmaps of &all layers..."), this,
                  [this] { exportWithDialog("heatmap-all"); });
  file->addAction(tr("Export memory per &layer..."), this,
                  [this] { exportWithDialog("memory-layers"); });
  file->addAction(tr("Export memory over &steps..."), this,
                  [this] { exportWithDialog("memory-steps"); });
  file->addAction(tr("Export &adjacent similarity..."), this,
                  [this] { exportWithDialog("adjacent"); });
  file->addAction(tr("Export layer &ratios..."), this, [this] { exportWithDialog("layer-ratio"); })
      ->setObjectName("exportLayerRatios");
  file->addSeparator();
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);
  viewMenu_ = menuBar()->addMenu(tr("&View"));
}

}  // namespace kvs::ui
