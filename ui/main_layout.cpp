// MainWindow's dock arrangement: the default one (at start and View > Reset layout) and the saved
// one, restored only when the window saved fits the screen it would open on.
//
// Default: Prompt over Parameters in a left column and Overview over Memory | Tokens in a right
// one, both the window's full height; the heatmap in the middle with Output | Compare | Layer
// ratios under it, Output in front. On a 1366x768 screen the prompt, Run, the heatmap, the output
// and the parameters are all in view; every panel shrinks (Parameters scrolls).

#include <QDockWidget>
#include <QGuiApplication>
#include <QScreen>
#include <QSettings>
#include <QTimer>
#include <algorithm>

#include "main_window.h"

namespace kvs::ui {
namespace {

// saveState's version. States of the earlier arrangement (version 0: the output tabs under the
// whole window, which made it taller than a laptop's screen) are not restored.
constexpr int kLayoutVersion = 1;
// The window on a large screen; a smaller one gets its available area.
constexpr QSize kLargestDefault(1600, 1000);
// Before the window is shown its frame is unknown: room for a title bar and borders.
constexpr QSize kFrameAllowance(16, 40);
// A maximised window's frame may reach a few pixels past the screen's edges.
constexpr int kFrameSlack = 8;

}  // namespace

void MainWindow::arrangeDocks() {
  // The side columns take the corners, so they run the window's full height and the output tabs
  // sit under the heatmap only.
  setCorner(Qt::TopLeftCorner, Qt::LeftDockWidgetArea);
  setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
  setCorner(Qt::TopRightCorner, Qt::RightDockWidgetArea);
  setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
  const Docks& d = docks_;
  QDockWidget* const all[] = {d.prompt,   d.parameters, d.output, d.compare,    d.layerRatios,
                              d.evaluation, d.overview, d.memory, d.tokens};
  for (QDockWidget* dock : all) {
    dock->setFloating(false);
    removeDockWidget(dock);  // no-op for one not placed yet
  }
  d.sweep->setFloating(false);
  removeDockWidget(d.sweep);
  addDockWidget(Qt::LeftDockWidgetArea, d.prompt);
  splitDockWidget(d.prompt, d.parameters, Qt::Vertical);
  addDockWidget(Qt::BottomDockWidgetArea, d.output);
  tabifyDockWidget(d.output, d.compare);
  tabifyDockWidget(d.compare, d.sweep);  // beside Compare
  tabifyDockWidget(d.compare, d.layerRatios);
  tabifyDockWidget(d.layerRatios, d.evaluation);
  addDockWidget(Qt::RightDockWidgetArea, d.overview);
  splitDockWidget(d.overview, d.memory, Qt::Vertical);
  tabifyDockWidget(d.memory, d.tokens);
  for (QDockWidget* dock : all) dock->show();
  d.sweep->show();
  // The first tab of each group in front (tabifying leaves the last one added there).
  d.output->raise();
  d.memory->raise();
}

void MainWindow::sizeDocks() {
  const Docks& d = docks_;
  const int w = width(), h = height();
  // Columns: a quarter and a fifth of the width, within what their panels read well at; the
  // heatmap takes the rest. resizeDocks keeps every dock at least at its minimum.
  const int left = std::clamp(w / 4, 340, 440);
  const int right = std::clamp(w / 5, 250, 420);
  resizeDocks({d.prompt, d.overview}, {left, right}, Qt::Horizontal);
  // The prompt panel with a prompt of six lines or more (two fifths of the height on a tall
  // screen); Parameters, which scrolls, takes the rest.
  const int prompt =
      std::max(h * 2 / 5, d.prompt->minimumSizeHint().height() + 3 * fontMetrics().lineSpacing());
  resizeDocks({d.prompt, d.parameters}, {prompt, std::max(h - prompt, 1)}, Qt::Vertical);
  resizeDocks({d.output}, {std::clamp(h * 3 / 10, 180, 330)}, Qt::Vertical);
  resizeDocks({d.overview, d.memory}, {h / 2, h / 2}, Qt::Vertical);
}

void MainWindow::resetLayout(QSize size) {
  arrangeDocks();
  if (!isMaximized() && !isFullScreen()) {
    const QRect available = screen()->availableGeometry();
    if (size.isEmpty()) {
      const QSize frame = isVisible() ? frameGeometry().size() - this->size() : kFrameAllowance;
      size = kLargestDefault.boundedTo(available.size() - frame);
    }
    resize(size);
    if (isVisible() && !available.contains(frameGeometry())) move(available.topLeft());
  }
  if (isVisible()) {
    // After the resize has been laid out.
    QTimer::singleShot(0, this, &MainWindow::sizeDocks);
  } else {
    sizeDocksOnShow_ = true;
  }
}

void MainWindow::showEvent(QShowEvent* event) {
  QMainWindow::showEvent(event);
  if (!sizeDocksOnShow_) return;
  sizeDocksOnShow_ = false;
  QTimer::singleShot(0, this, &MainWindow::sizeDocks);
}

bool MainWindow::restoreLayout(const QSettings& settings) {
  // Only layouts saved with the window's frame: older ones are of the earlier arrangement.
  const QRect frame = settings.value("window/frame").toRect();
  const QScreen* screen = QGuiApplication::screenAt(frame.center());
  if (!screen) screen = QGuiApplication::primaryScreen();
  if (frame.isEmpty() || !screen) return false;
  const QSize room = screen->availableGeometry().size() + QSize(kFrameSlack, kFrameSlack);
  if (frame.width() > room.width() || frame.height() > room.height()) return false;
  return restoreGeometry(settings.value("window/geometry").toByteArray()) &&
         restoreState(settings.value("window/state").toByteArray(), kLayoutVersion);
}

void MainWindow::saveLayout(QSettings& settings) const {
  settings.setValue("window/frame", frameGeometry());
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState(kLayoutVersion));
}

}  // namespace kvs::ui
