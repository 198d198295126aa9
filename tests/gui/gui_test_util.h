#pragma once
// Shared by the GUI tests: the model, a prompt long enough to merge, and helpers to find widgets
// and run a prompt through a MainWindow.

#include <QDoubleSpinBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTest>

#include "heatmap_panel.h"
#include "main_window.h"

namespace kvs::ui::test {

inline const QString kModel = QStringLiteral(KVS_MODELS_DIR "/stories260K.bin");
inline constexpr int kTimeoutMs = 60000;
inline const QString kPrompt = QStringLiteral(
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.");

template <typename T>
T* child(const QObject& w, const char* name) {
  T* widget = w.findChild<T*>(QString::fromLatin1(name));
  if (!widget) qFatal("no child %s", name);
  return widget;
}

// Loads the model and runs kPrompt with the window's parameters; returns when all is drawn.
inline bool runPrompt(MainWindow& w, int steps) {
  auto* run = child<QPushButton>(w, "run");
  if (!QTest::qWaitFor([&] { return run->isEnabled(); }, kTimeoutMs)) return false;
  child<QPlainTextEdit>(w, "prompt")->setPlainText(kPrompt);
  child<QSpinBox>(w, "steps")->setValue(steps);
  child<QDoubleSpinBox>(w, "temperature")->setValue(0.0);
  QTest::mouseClick(run, Qt::LeftButton);
  return QTest::qWaitFor([&] { return run->isEnabled() && w.heatmap()->tokens() > 0; }, kTimeoutMs);
}

}  // namespace kvs::ui::test
