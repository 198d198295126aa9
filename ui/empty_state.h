#pragma once
// EmptyState: a message laid over a plot that has nothing to show yet ("Run a prompt to see
// ..."), so that a bare plot's default axes, colour bar or guide lines are not read as data.
// It covers the plot widget only on screen: exports render the plot itself, never its children.

#include <QLabel>

namespace kvs::ui {

class EmptyState : public QLabel {
  Q_OBJECT

 public:
  // A child of plot, covering it and shown; it follows the plot's size.
  EmptyState(QWidget* plot, const QString& text);

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  void paintEvent(QPaintEvent* event) override;
};

}  // namespace kvs::ui
