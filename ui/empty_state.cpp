#include "empty_state.h"

#include <QEvent>
#include <QPainter>

namespace kvs::ui {

EmptyState::EmptyState(QWidget* plot, const QString& text) : QLabel(text, plot) {
  setObjectName(plot->objectName() + QStringLiteral("Empty"));
  setAlignment(Qt::AlignCenter);
  setWordWrap(true);
  setMargin(12);
  setForegroundRole(QPalette::PlaceholderText);
  setGeometry(plot->rect());
  plot->installEventFilter(this);
  show();
}

void EmptyState::paintEvent(QPaintEvent* event) {
  // Opaque, but painted here rather than by autoFillBackground: Qt then still counts the plot as
  // visible beneath (its layout checks read the plot's visible region).
  QPainter(this).fillRect(rect(), palette().window());
  QLabel::paintEvent(event);
}

bool EmptyState::eventFilter(QObject* watched, QEvent* event) {
  if (watched == parent() && event->type() == QEvent::Resize) {
    setGeometry(static_cast<QWidget*>(watched)->rect());
  }
  return QLabel::eventFilter(watched, event);
}

}  // namespace kvs::ui
