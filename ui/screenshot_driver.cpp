#include "screenshot_driver.h"

#include <QApplication>
#include <QComboBox>
#include <QDockWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <cstdio>

#include "compare_panel.h"
#include "compare_table_model.h"
#include "heatmap_panel.h"
#include "layer_ratio_panel.h"
#include "main_window.h"
#include "parameters_panel.h"
#include "session_controller.h"

namespace kvs::ui {

ScreenshotDriver::ScreenshotDriver(MainWindow* window, QString path, QString prompt, int layer,
                                   int head)
    : QObject(window),
      window_(window),
      path_(std::move(path)),
      prompt_(std::move(prompt)),
      layer_(layer),
      head_(head) {
  connect(&timer_, &QTimer::timeout, this, &ScreenshotDriver::poll);
  timer_.start(200);
}

void ScreenshotDriver::setView(int first, int last) {
  first_ = first;
  last_ = last;
}

void ScreenshotDriver::poll() {
  auto* run = window_->findChild<QPushButton*>("run");
  ++waited_;
  if (waited_ > 600) {  // two minutes in one stage
    std::fprintf(stderr, "screenshot: timed out in stage %d\n", stage_);
    QApplication::exit(1);
    return;
  }
  switch (stage_) {
    case 0:  // model loaded
      if (!run->isEnabled()) return;
      if (!prompt_.isEmpty()) window_->findChild<QPlainTextEdit*>("prompt")->setPlainText(prompt_);
      run->click();
      break;
    case 1:  // run done and drawn
      if (!run->isEnabled() || window_->controller()->busy() || window_->heatmap()->tokens() == 0) {
        return;
      }
      window_->heatmap()->select(layer_, head_);
      break;
    case 2:  // the Compare view's variants, when asked for
      if (compare_) {
        auto* add = window_->findChild<QPushButton*>("compareAdd");
        auto* method = window_->findChild<QComboBox*>("method");
        const QString current = method->currentText();
        add->click();
        for (const char* m : {"h2o", "streaming"}) {
          method->setCurrentText(m);
          add->click();
        }
        method->setCurrentText(current);
        // Floating and large: the Compare view alone is the figure.
        auto* dock = window_->findChild<QDockWidget*>("compareDock");
        dock->setFloating(true);
        dock->resize(1150, 430);
      }
      if (ratios_) {
        auto* panel = window_->findChild<LayerRatioPanel*>();
        panel->startBatch(panel->promptsFile());
        auto* dock = window_->findChild<QDockWidget*>("layerRatioDock");
        dock->setFloating(true);
        dock->resize(1150, 480);
      }
      break;
    case 3:
      if (ratios_) {
        const auto* panel = window_->findChild<LayerRatioPanel*>();
        if (panel->batch().state != LayerRatioResult::State::kDone || panel->batch().done == 0) {
          return;
        }
      }
      if (compare_) {
        if (window_->controller()->busy() || !run->isEnabled()) return;
        if (window_->compare()->model()->result().rows.isEmpty()) {
          if (!compareClicked_) window_->findChild<QPushButton*>("compareRun")->click();
          compareClicked_ = true;
          return;
        }
      }
      break;
    case 4:  // the selected head's matrix drawn
      if (window_->heatmap()->tokens() == 0 || waited_ < 5) return;
      if (first_ >= 0) window_->heatmap()->setView(first_, last_);
      QWidget* shown = window_;
      if (compare_) shown = window_->findChild<QDockWidget*>("compareDock");
      if (ratios_) shown = window_->findChild<QDockWidget*>("layerRatioDock");
      if (!shown->grab().save(path_)) {
        std::fprintf(stderr, "screenshot: cannot write %s\n", qPrintable(path_));
        QApplication::exit(1);
        return;
      }
      std::printf("screenshot: %s\n", qPrintable(path_));
      QApplication::exit(0);
      return;
  }
  ++stage_;
  waited_ = 0;
}

}  // namespace kvs::ui
