#pragma once
// Shared by the GUI tests: the model, a prompt long enough to merge, and helpers to find widgets
// and run a prompt through a MainWindow.

#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QFile>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTest>

#include "heatmap_panel.h"
#include "main_window.h"
#include "parameters_panel.h"
#include "tokenizer/tokenizer.h"

namespace kvs::ui::test {

inline const QString kModel = QStringLiteral(KVS_MODELS_DIR "/stories260K.bin");
inline constexpr int kTimeoutMs = 60000;
inline const QString kPrompt = QStringLiteral(
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
    "park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.");

// Every GUI test's first step (before any QSettings exists): the settings live in dir, never the
// user's, under the test's own application name. Returns what is wrong (a folder that could not
// be made, the model missing when needed), empty when all is well.
inline QString isolateSettings(const QTemporaryDir& dir, const QString& application,
                               bool needsModel = true) {
  if (!dir.isValid()) return QStringLiteral("no temporary folder for the settings");
  QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, dir.path());
  QCoreApplication::setOrganizationName(QStringLiteral("kvstudio-test"));
  QCoreApplication::setApplicationName(application);
  if (needsModel && !QFile::exists(kModel)) return "missing " + kModel + "; run the setup first";
  return {};
}

template <typename T>
T* child(const QObject& w, const char* name) {
  T* widget = w.findChild<T*>(QString::fromLatin1(name));
  if (!widget) qFatal("no child %s", name);
  return widget;
}

// The app's defaults with the paper's approximate budget, for the tests that tune eps (under the
// default exact budget, eps is searched per head and the field has no effect).
inline kvs::CompressionParams approximateBudget() {
  kvs::CompressionParams p = ParametersPanel::defaults();
  p.exactBudget = false;
  return p;
}

// The New tokens that make a run of kPrompt take `positions` positions, the prompt's included
// (the tests size their runs in positions, as the CLI's --steps): a token is chosen at each of
// the positions P-1 .. positions-1.
inline int promptTokens(const QString& prompt = kPrompt) {
  static const Tokenizer tokenizer = Tokenizer::load(KVS_MODELS_DIR "/tok512.model");
  return static_cast<int>(tokenizer.encode(prompt.toStdString()).size());  // BOS included
}
inline int newTokensFor(int positions, const QString& prompt = kPrompt) {
  return positions - promptTokens(prompt) + 1;
}

// Loads the model and runs kPrompt over `positions` positions with the window's parameters;
// returns when all is drawn.
inline bool runPrompt(MainWindow& w, int positions) {
  auto* run = child<QPushButton>(w, "run");
  if (!QTest::qWaitFor([&] { return run->isEnabled(); }, kTimeoutMs)) return false;
  child<QPlainTextEdit>(w, "prompt")->setPlainText(kPrompt);
  child<QSpinBox>(w, "newTokens")->setValue(newTokensFor(positions));
  child<QDoubleSpinBox>(w, "temperature")->setValue(0.0);
  QTest::mouseClick(run, Qt::LeftButton);
  return QTest::qWaitFor([&] { return run->isEnabled() && w.heatmap()->tokens() > 0; }, kTimeoutMs);
}

}  // namespace kvs::ui::test
