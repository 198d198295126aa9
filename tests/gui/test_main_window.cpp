// MainWindow end to end, offscreen: load stories260K, run greedy, stop a long run, show errors.

#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDoubleSpinBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <atomic>

#include "gui_test_util.h"
#include "main_window.h"
#include "session_worker.h"

using kvs::ui::GenerationStats;
using kvs::ui::MainWindow;
using kvs::ui::SessionWorker;
using kvs::ui::test::child;
using kvs::ui::test::kModel;
using kvs::ui::test::newTokensFor;

namespace {

constexpr int kLoadTimeoutMs = 60000;
constexpr int kRunTimeoutMs = 120000;

QString readGolden(const QString& name) {
  QFile file(QStringLiteral(KVS_GOLDEN_DIR "/") + name);
  if (!file.open(QIODevice::ReadOnly)) qFatal("cannot read golden file %s", qPrintable(name));
  return QString::fromUtf8(file.readAll());
}

// The full cache by default here: the golden texts are llama2.c's, uncompressed.
void setJob(const MainWindow& w, const QString& prompt, int steps, double temperature,
            const QString& method = QStringLiteral("full")) {
  child<QComboBox>(w, "method")->setCurrentText(method);
  child<QPlainTextEdit>(w, "prompt")->setPlainText(prompt);
  child<QSpinBox>(w, "newTokens")->setValue(newTokensFor(steps, prompt));
  child<QDoubleSpinBox>(w, "temperature")->setValue(temperature);
}

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void greedyRunMatchesGolden();
  void stopCancelsLongRun();
  void promptLongerThanTheContextIsAnError();
  void missingModelShowsErrorAndRecovers();
  void settingsPersist();
  void huggingFaceFolderRunsLikeTheBin();
  void chatFormatWrapsThePrompt();
  void progressBarSaysHowTheRunEnded();

 private:
  QTemporaryDir settingsDir_;
};

void TestMainWindow::initTestCase() {
  const QString problem =
      kvs::ui::test::isolateSettings(settingsDir_, QStringLiteral("KV Studio test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestMainWindow::greedyRunMatchesGolden() {
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  QVERIFY(child<QLabel>(w, "modelLabel")->text().startsWith("stories260K.bin"));
  QCOMPARE(child<QSpinBox>(w, "newTokens")->maximum(), 512);  // the model's context

  setJob(w, QStringLiteral("Once upon a time"), 64, 0.0);
  QSignalSpy finished(w.worker(), &SessionWorker::finished);
  QTest::mouseClick(run, Qt::LeftButton);
  QVERIFY(!run->isEnabled());
  // Run comes back when the window has handled finished; the text chunks were queued before it,
  // so they are all shown. (QSignalSpy::wait could miss a run that ended before it was called.)
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  QCOMPARE(finished.count(), 1);

  // The CLI (and llama2.c) print prompt + continuation + "\n"; the panel has no final newline.
  QString golden = readGolden(QStringLiteral("greedy_once_upon_a_time_n64.txt"));
  QVERIFY(golden.endsWith('\n'));
  golden.chop(1);
  const auto* output = child<QPlainTextEdit>(w, "output");
  QCOMPARE(output->toPlainText(), golden);

  const auto stats = finished.first().first().value<GenerationStats>();
  QCOMPARE(stats.stopReason, QStringLiteral("steps"));
  QCOMPARE(stats.promptTokens + stats.generatedTokens - 1, 64);
  const auto* progress = child<QProgressBar>(w, "progress");
  QCOMPARE(progress->maximum(), stats.generatedTokens);  // in new tokens
  QCOMPARE(progress->value(), stats.generatedTokens);
  QCOMPARE(stats.generatedTokens, newTokensFor(64, QStringLiteral("Once upon a time")));
  QVERIFY2(w.statusBar()->currentMessage().contains("tokens/s"),
           qPrintable(w.statusBar()->currentMessage()));

  // Greedy is reproducible, and Ctrl+Return runs it from the prompt editor.
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  finished.clear();
  QTest::keyClick(child<QPlainTextEdit>(w, "prompt"), Qt::Key_Return, Qt::ControlModifier);
  QVERIFY(!run->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  QCOMPARE(finished.count(), 1);
  QCOMPARE(output->toPlainText(), golden);
  QCOMPARE(child<QPlainTextEdit>(w, "prompt")->toPlainText(), QStringLiteral("Once upon a time"));
}

void TestMainWindow::stopCancelsLongRun() {
  // stories260K decodes a 512-step run in a fraction of a second, faster than a click could
  // land. So the worker waits after its third text chunk until Stop is pressed: the test then
  // checks that Stop reaches the running generation, without racing it.
  QSemaphore stopPressed;
  std::atomic<int> chunks{0};
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  auto* stop = child<QPushButton>(w, "stop");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  QVERIFY(!stop->isEnabled());
  // On an early return (a failed check) the worker must not stay paused: the window waits for it.
  const auto unpause = qScopeGuard([&] { stopPressed.release(); });
  const auto pause = connect(
      w.worker(), &SessionWorker::textReady, w.worker(),
      [&](const QString&) {
        if (++chunks == 3) stopPressed.tryAcquire(1, kRunTimeoutMs);
      },
      Qt::DirectConnection);

  setJob(w, QStringLiteral("Once upon a time"), 512, 0.0);
  QSignalSpy finished(w.worker(), &SessionWorker::finished);
  QTest::mouseClick(run, Qt::LeftButton);
  const auto* output = child<QPlainTextEdit>(w, "output");
  QTRY_VERIFY_WITH_TIMEOUT(output->toPlainText().size() > QStringLiteral("Once upon a time").size(),
                           kRunTimeoutMs);
  QVERIFY(stop->isEnabled());
  w.activateWindow();
  QVERIFY(QTest::qWaitForWindowActive(&w));
  QTest::keyClick(&w, Qt::Key_Escape);  // Stop's shortcut
  QVERIFY(!stop->isEnabled());          // stopping: the flag is set
  QVERIFY(w.statusBar()->currentMessage().contains("Stopping"));
  stopPressed.release();
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  QCOMPARE(finished.count(), 1);
  disconnect(pause);

  const auto stats = finished.first().first().value<GenerationStats>();
  QCOMPARE(stats.stopReason, QStringLiteral("cancelled"));
  QVERIFY2(stats.generatedTokens < 20, qPrintable(QString::number(stats.generatedTokens)));
  QVERIFY(!stop->isEnabled());
  const auto* progress = child<QProgressBar>(w, "progress");
  QCOMPARE(progress->maximum(), newTokensFor(512, QStringLiteral("Once upon a time")));
  QVERIFY(progress->value() < 30);
  QVERIFY(output->toPlainText().startsWith("Once upon a time"));
  QVERIFY(w.statusBar()->currentMessage().contains("stopped"));
}

// New tokens leave no way to ask for fewer positions than the prompt's; a prompt longer than
// the context is what remains to refuse.
void TestMainWindow::promptLongerThanTheContextIsAnError() {
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  QString longPrompt;
  for (int i = 0; i < 10; ++i) longPrompt += kvs::ui::test::kPrompt + ' ';
  child<QPlainTextEdit>(w, "prompt")->setPlainText(longPrompt);
  QSignalSpy failed(w.worker(), &SessionWorker::failed);
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);  // the model stays loaded
  QCOMPARE(failed.count(), 1);
  const QString message = failed.first().first().toString();
  QVERIFY2(message.contains("the model's context is 512 positions; shorten the prompt"),
           qPrintable(message));
  QVERIFY(child<QPlainTextEdit>(w, "output")->toPlainText().contains(message));
  QVERIFY(w.statusBar()->currentMessage().contains(message));
}

void TestMainWindow::missingModelShowsErrorAndRecovers() {
  const QString missing = QStringLiteral("/nonexistent/kvstudio/missing.bin");
  MainWindow w(missing);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  const auto* output = child<QPlainTextEdit>(w, "output");
  QTRY_VERIFY_WITH_TIMEOUT(output->toPlainText().contains(missing), kLoadTimeoutMs);
  QVERIFY2(output->toPlainText().contains("not found"), qPrintable(output->toPlainText()));
  QVERIFY(w.statusBar()->currentMessage().contains(missing));
  QCOMPARE(child<QLabel>(w, "modelLabel")->text(), QStringLiteral("No model loaded"));
  QVERIFY(!run->isEnabled());
  // The error is shown in red.
  const QTextBlock last = output->document()->lastBlock();
  QVERIFY(!last.textFormats().isEmpty());
  const QColor colour = last.textFormats().first().format.foreground().color();
  QVERIFY2(colour.red() > 150 && colour.green() < 80, qPrintable(colour.name()));

  // Entering a good path loads it.
  auto* path = child<QLineEdit>(w, "modelPath");
  QVERIFY(path->isEnabled());
  path->setText(kModel);
  QTest::keyClick(path, Qt::Key_Return);
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  QVERIFY(child<QLabel>(w, "modelLabel")->text().startsWith("stories260K.bin"));
}

void TestMainWindow::settingsPersist() {
  {
    MainWindow w(kModel);
    setJob(w, QStringLiteral("The little dog"), 100, 0.5);
    child<QDoubleSpinBox>(w, "topP")->setValue(0.8);
    child<QSpinBox>(w, "seed")->setValue(7);
  }              // saved on destruction
  MainWindow w;  // no path given: the saved one
  QCOMPARE(child<QLineEdit>(w, "modelPath")->text(), kModel);
  QCOMPARE(child<QPlainTextEdit>(w, "prompt")->toPlainText(), QStringLiteral("The little dog"));
  QCOMPARE(child<QSpinBox>(w, "newTokens")->value(),
           newTokensFor(100, QStringLiteral("The little dog")));
  QCOMPARE(child<QDoubleSpinBox>(w, "temperature")->value(), 0.5);
  QCOMPARE(child<QDoubleSpinBox>(w, "topP")->value(), 0.8);
  QCOMPARE(child<QSpinBox>(w, "seed")->value(), 7);
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kLoadTimeoutMs);
  QVERIFY(QFile::exists(QSettings().fileName()));
  // The models loaded are listed under File > Recent models, newest first.
  QCOMPARE(QSettings().value("model/recent").toStringList().value(0), kModel);
  const auto* recent = w.findChild<QMenu*>("recentModels");
  QVERIFY(recent && recent->isEnabled());
  QCOMPARE(recent->actions().value(0)->text(), kModel);
  QVERIFY(QSettings().fileName().startsWith(settingsDir_.path()));
}

// The model picker takes a Hugging Face folder: stories260K exported as one (with its tokenizer)
// gives llama2.c's greedy text, as the .bin does.
void TestMainWindow::huggingFaceFolderRunsLikeTheBin() {
  QTemporaryDir dir;
  QVERIFY(dir.isValid());
  const std::string folder = QFile::encodeName(dir.filePath("stories260K-hf")).toStdString();
  const kvs::Llama2cCheckpoint bin =
      kvs::readLlama2cCheckpoint(QFile::encodeName(kModel).toStdString());
  kvs::HfExportOptions options;
  options.tokenizerPath = KVS_MODELS_DIR "/tok512.model";
  kvs::writeHfCheckpoint(folder, bin.config, bin.weights, options);

  MainWindow w(QString::fromStdString(folder));
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  QVERIFY2(child<QLabel>(w, "modelLabel")->text().startsWith("stories260K-hf"),
           qPrintable(child<QLabel>(w, "modelLabel")->text()));
  setJob(w, QStringLiteral("Once upon a time"), 64, 0.0);
  QTest::mouseClick(run, Qt::LeftButton);
  QVERIFY(!run->isEnabled());
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  QString golden = readGolden(QStringLiteral("greedy_once_upon_a_time_n64.txt"));
  golden.chop(1);
  QCOMPARE(child<QPlainTextEdit>(w, "output")->toPlainText(), golden);
}

// The chat option wraps the prompt as the CLI's --chat does, with the system prompt, and persists.
// A run that ends at end of text fills the bar and says so (it stayed at e.g. 195 / 256).
void TestMainWindow::progressBarSaysHowTheRunEnded() {
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  setJob(w, kvs::ui::test::kPrompt, 512, 0.0);
  QSignalSpy finished(w.worker(), &SessionWorker::finished);
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  const auto stats = finished.first().first().value<GenerationStats>();
  QCOMPARE(stats.stopReason, QStringLiteral("stop_token"));  // the story ends before 512
  const auto* bar = child<QProgressBar>(w, "progress");
  QCOMPARE(bar->value(), bar->maximum());
  QCOMPARE(bar->maximum(), stats.generatedTokens);  // in new tokens, as the panel asks for them
  const QString asked = QString::number(newTokensFor(512));
  QVERIFY2(
      bar->text() ==
          QStringLiteral("%1 of %2 new tokens: end of text").arg(stats.generatedTokens).arg(asked),
      qPrintable(bar->text()));
}

void TestMainWindow::chatFormatWrapsThePrompt() {
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kLoadTimeoutMs);
  auto* system = child<QLineEdit>(w, "system");
  QVERIFY(!system->isEnabled());
  child<QCheckBox>(w, "chat")->setChecked(true);
  QVERIFY(system->isEnabled());
  system->setText(QStringLiteral("Be brief."));
  setJob(w, QStringLiteral("Tell a story."), 80, 0.0);
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  const QString text = child<QPlainTextEdit>(w, "output")->toPlainText();
  QVERIFY2(text.startsWith(
               QStringLiteral("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nTell a story. [/INST]")),
           qPrintable(text));

  // A chat turn needs a user message.
  setJob(w, QStringLiteral("  "), 80, 0.0);
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(
      child<QPlainTextEdit>(w, "output")->toPlainText().contains("needs a user message"),
      kRunTimeoutMs);
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kRunTimeoutMs);
  child<QCheckBox>(w, "chat")->setChecked(false);  // the next tests start without it
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
