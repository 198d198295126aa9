// MainWindow's menus: File (models, recordings, exports) and View, and the recent files list.

#include <QAction>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QSettings>
#include <QStatusBar>

#include "eval_panel.h"
#include "export_menu.h"
#include "export_sidecar.h"
#include "heatmap_panel.h"
#include "main_window.h"
#include "output_panel.h"
#include "prompt_panel.h"
#include "recording_controls.h"
#include "run_control.h"
#include "session_controller.h"

namespace kvs::ui {

void MainWindow::rememberModel(const QString& opened) {
  const QString path = absolutePath(opened);
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
      if (RunControl::isRecordingPath(path)) {
        runControl_->openRecording(path);
      } else {
        openModel(path);
      }
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
    if (!path.isEmpty()) openModel(path);
  });
  open->setShortcut(QKeySequence::Open);
  file->addAction(recording_->openAction());
  QAction* openEval = file->addAction(tr("Open e&valuation results..."), this, [this] {
    docks_.evaluation->show();  // the results appear in its tab, brought to the front
    docks_.evaluation->raise();
    evaluation_->chooseResults();
  });
  openEval->setObjectName("openEvalResults");
  recentMenu_ = file->addMenu(tr("&Recent files"));
  recentMenu_->setObjectName("recentModels");
  fillRecentMenu();
  file->addSeparator();
  file->addAction(recording_->recordAction());
  file->addSeparator();
  // The panels add their figures here (wire()), before the separator above Quit.
  QAction* exportsEnd = file->addSeparator();
  exportMenu_ = new ExportMenu(file, exportsEnd, this, [this](const QJsonObject& view) {
    QJsonObject sidecar =
        exportSidecar(controller_->prompt(), promptPanel_->job(), controller_->params(), view);
    sidecar["merging_decisions"] = heatmap_->decisionsJson();
    return sidecar;
  });
  connect(exportMenu_, &ExportMenu::exported, this, [this](const QString& path) {
    statusBar()->showMessage(tr("Exported %1 with its .csv and .json").arg(path), 8000);
  });
  connect(exportMenu_, &ExportMenu::failed, this, [this](const QString& message) {
    statusBar()->showMessage(tr("Error: %1").arg(message));
    outputPanel_->showError(message);
  });
  QAction* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
  quit->setShortcut(QKeySequence::Quit);
  viewMenu_ = menuBar()->addMenu(tr("&View"));
  QAction* reset = viewMenu_->addAction(tr("&Reset layout"), this, [this] { resetLayout(); });
  reset->setObjectName("resetLayout");
  reset->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
  reset->setToolTip(tr("The docks in their first places, the window fitted to its screen"));
  viewMenu_->addSeparator();  // the docks follow, each shown or hidden
}

}  // namespace kvs::ui
