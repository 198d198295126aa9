// Recording in the GUI, offscreen on stories260K: File > Record next run to HDF5 writes what
// `kvstudio-cli generate --record` writes, and File > Open recording explores the file without
// the model (same prompt, same similarity matrices, the recorded continuation).

#include "io/recording_reader.h"
#include "model/cli_runner.h"
#include "model/model_loader.h"
#include "session/prefill_state.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_locator.h"

#include <ATen/ATen.h>

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScopeGuard>
#include <QSemaphore>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <atomic>

#include "gui_test_util.h"
#include "output_panel.h"
#include "record_dialog.h"
#include "session_controller.h"
#include "session_worker.h"

using namespace kvs::ui;
using kvs::ui::test::child;
using kvs::ui::test::kModel;
using kvs::ui::test::kPrompt;
using kvs::ui::test::kTimeoutMs;

namespace {

constexpr int kSteps = 80;

kvs::RecordingOptions options(const QString& path) {
  kvs::RecordingOptions o;
  o.path = path.toStdString();
  o.attention = true;  // the prompt's attention: the same protected tokens as the live layout
  return o;
}

// Runs kPrompt greedily with method, recording to path; returns the recordingDone report.
RecordingReport recordRun(MainWindow& w, const QString& path, const QString& method) {
  child<QComboBox>(w, "method")->setCurrentText(method);
  w.armRecording(options(path));
  QSignalSpy done(w.controller(), &SessionController::recordingDone);
  if (!kvs::ui::test::runPrompt(w, kSteps)) qFatal("the run did not finish");
  if (!QTest::qWaitFor([&] { return done.count() == 1; }, kTimeoutMs)) qFatal("no recordingDone");
  return done.first().first().value<RecordingReport>();
}

// The matrix the heatmap is given for (source, layer, head), asked for as the heatmap asks.
kvs::SimilarityMatrix matrixShown(MainWindow& w, int source, int layer, int head) {
  QSignalSpy spy(w.controller(), &SessionController::similarityReady);
  w.controller()->requestSimilarity(source, layer, head);
  const auto wanted = [&] {
    for (const auto& args : spy) {
      const auto m = args.first().value<SimilarityResult>().matrix;
      if (int(m.source) == source && m.layer == layer && m.head == head) return true;
    }
    return false;
  };
  if (!QTest::qWaitFor(wanted, kTimeoutMs)) qFatal("no matrix for layer %d head %d", layer, head);
  for (const auto& args : spy) {
    const auto m = args.first().value<SimilarityResult>().matrix;
    if (int(m.source) == source && m.layer == layer && m.head == head) return m;
  }
  return {};
}

// Answers the next question box with button: it runs its own modal loop, so a timer polls for it.
void answerNextQuestion(QMessageBox::StandardButton button) {
  auto* timer = new QTimer;
  timer->setInterval(20);
  QObject::connect(timer, &QTimer::timeout, [timer, button] {
    for (QWidget* w : QApplication::topLevelWidgets()) {
      auto* box = qobject_cast<QMessageBox*>(w);
      if (!box || !box->isVisible()) continue;
      timer->stop();
      timer->deleteLater();
      box->button(button)->click();
      return;
    }
  });
  timer->start();
}

}  // namespace

class TestRecordingGui : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void recordedRunMatchesPrefillAndCli();
  void openedRecordingShowsTheLiveSession();
  void unwritablePathIsAMessage();
  void stopLeavesAnIncompleteReadableFile();
  void existingFileIsReplacedOnlyWhenTheUserSaysSo();
  void aRunThatFailsBeforeRecordingDoesNotArmTheNext();

 private:
  QTemporaryDir settingsDir_, files_;
};

void TestRecordingGui::initTestCase() {
  QVERIFY(files_.isValid());
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio recording test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestRecordingGui::recordedRunMatchesPrefillAndCli() {
  const QString path = files_.filePath("gui.h5");
  MainWindow w(kModel);
  w.show();
  const RecordingReport report = recordRun(w, path, QStringLiteral("full"));
  QVERIFY2(report.complete, qPrintable(report.error));
  qInfo("recorded %d tokens, %lld bytes; %.1f ms of the run spent in the recorder", report.tokens,
        report.bytes, report.ms);
  QVERIFY(!w.recordingArmed());  // the next run only
  QCOMPARE(report.bytes, QFileInfo(path).size());
  QVERIFY(child<QLabel>(w, "recordingLabel")->text().contains("gui.h5"));

  const kvs::RecordingReader gui(path.toStdString());
  QVERIFY(gui.info().complete);
  const int P = gui.info().promptTokens;
  QCOMPARE(P, w.controller()->prompt().ids.size());
  QVERIFY(gui.info().tokens > P && gui.info().tokens <= kSteps);
  // Layer 0's keys of the prompt are the prefill's (what the worker keeps), bit for bit.
  const auto model = kvs::loadModel(kModel.toStdString());
  const kvs::Tokenizer tokenizer =
      kvs::locateTokenizer(kModel.toStdString(), "", model->config().vocabSize);
  const std::vector<int> ids(gui.info().tokenIds.begin(), gui.info().tokenIds.begin() + P);
  QVERIFY(ids == tokenizer.encode(kPrompt.toStdString(), true));
  const kvs::PrefillState state = kvs::prefillPrompt(*model, ids);
  const at::Tensor keys = gui.states(kvs::StateSource::kKeys, 0);  // [Hkv, T, D]
  QVERIFY(at::equal(keys.narrow(1, 0, P), state.cache().keys(0).narrow(1, 0, P)));

  // The CLI's recording of the same greedy run holds the same tokens and states.
  const QString cliPath = files_.filePath("cli.h5");
  const auto cli = kvs::test::runCliCommand(
      "generate --model " KVS_MODELS_DIR "/stories260K.bin --prompt '" + kPrompt.toStdString() +
      "' --steps " + std::to_string(kSteps) + " --temperature 0 --record-attention --record " +
      cliPath.toStdString());
  QVERIFY2(cli.exitCode == 0, cli.err.c_str());
  const kvs::RecordingReader reference(cliPath.toStdString());
  QVERIFY(reference.info().tokenIds == gui.info().tokenIds);
  QVERIFY(reference.info().variantNames == gui.info().variantNames);
  for (int l = 0; l < gui.info().layers; ++l) {
    QVERIFY(at::equal(reference.states(kvs::StateSource::kKeys, l),
                      gui.states(kvs::StateSource::kKeys, l)));
    QVERIFY(at::allclose(reference.attention(l), gui.attention(l), 0, 1e-6));
  }
}

void TestRecordingGui::openedRecordingShowsTheLiveSession() {
  const QString path = files_.filePath("kvmerger.h5");
  MainWindow w(kModel);
  w.show();
  QVERIFY2(recordRun(w, path, QStringLiteral("kvmerger")).complete, "not complete");
  const PromptInfo live = w.controller()->prompt();
  const kvs::SimilarityMatrix liveMatrix = matrixShown(w, 0, 1, 0);
  const QString liveText = child<QPlainTextEdit>(w, "output")->toPlainText();
  const auto liveLayout = w.controller()->layout().layout;
  QVERIFY(liveLayout.error.empty() && liveLayout.tokens == live.ids.size());

  QSignalSpy opened(w.controller(), &SessionController::recordingOpened);
  QSignalSpy overview(w.controller(), &SessionController::overviewReady);
  w.openRecording(path);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
  qInfo("opened in %.1f ms", opened.first().first().value<RecordingReport>().ms);
  QVERIFY(QSettings().value("model/recent").toStringList().contains(path));
  QVERIFY(w.controller()->recordingOpen());
  QVERIFY(!child<QPushButton>(w, "run")->isEnabled());  // no model
  QVERIFY2(w.statusBar()->currentMessage().contains("load a model to generate"),
           qPrintable(w.statusBar()->currentMessage()));
  QVERIFY(child<QLabel>(w, "modelLabel")->text().contains("kvmerger.h5"));

  const PromptInfo& shown = w.controller()->prompt();
  QCOMPARE(shown.ids, live.ids);
  QCOMPARE(shown.pieces, live.pieces);
  QCOMPARE(shown.text, live.text);
  const kvs::SimilarityMatrix m = matrixShown(w, 0, 1, 0);
  QCOMPARE(m.tokens, liveMatrix.tokens);
  for (size_t i = 0; i < m.values.size(); ++i) {
    QVERIFY2(std::abs(m.values[i] - liveMatrix.values[i]) <= 1e-5, qPrintable(QString::number(i)));
  }
  // The merging sets come from the recorded keys and attention, as in the live session.
  QTRY_VERIFY_WITH_TIMEOUT(w.controller()->layout().layout.tokens == live.ids.size(), kTimeoutMs);
  const auto layout = w.controller()->layout().layout;
  for (int l = 0; l < live.layers; ++l) {
    for (int h = 0; h < live.kvHeads; ++h) {
      QCOMPARE(layout.heads[l][h].slots.size(), liveLayout.heads[l][h].slots.size());
    }
  }
  // The recorded continuation, decoded as the live one was.
  QCOMPARE(child<QPlainTextEdit>(w, "output")->toPlainText(), liveText);
  // The overview's thumbnails and adjacent-similarity curves need no model either.
  QTRY_VERIFY_WITH_TIMEOUT(overview.count() >= 1, kTimeoutMs);
  const auto data = overview.last().first().value<OverviewData>();
  QCOMPARE(int(data.thumbnails.size()), live.layers * live.kvHeads);
  QCOMPARE(int(data.adjacentCos.size()), live.layers);
  QCOMPARE(int(data.adjacentCos[0][0].size()), live.ids.size() - 1);

  // A source that was not recorded is a message, not a crash.
  QSignalSpy failed(w.controller(), &SessionController::failed);
  w.controller()->requestSimilarity(2, 0, 0);  // values
  QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeoutMs);
  QVERIFY2(failed.first().first().toString().contains("--record-values"),
           qPrintable(failed.first().first().toString()));
  QVERIFY(!child<QPushButton>(w, "run")->isEnabled());  // still no model
  // A parameter change still draws its sets (no model needed), and nothing decodes.
  QSignalSpy layouts(w.controller(), &SessionController::layoutReady);
  QSignalSpy variants(w.controller(), &SessionController::variantReady);
  w.controller()->setParams(w.controller()->params());
  QTRY_COMPARE_WITH_TIMEOUT(layouts.count(), 1, kTimeoutMs);
  QTest::qWait(300);  // longer than the debounce
  QCOMPARE(variants.count(), 0);
  QVERIFY(!w.controller()->busy());

  // A recording given as the model path (kvstudio run.h5) opens the same way.
  MainWindow fromCommandLine(path);
  QTRY_VERIFY_WITH_TIMEOUT(fromCommandLine.controller()->recordingOpen(), kTimeoutMs);
  QCOMPARE(fromCommandLine.controller()->prompt().pieces, live.pieces);
}

void TestRecordingGui::unwritablePathIsAMessage() {
  const QString path = QStringLiteral("/nonexistent-kvstudio-dir/run.h5");
  MainWindow w(kModel);
  w.show();
  const RecordingReport report = recordRun(w, path, QStringLiteral("full"));
  QVERIFY(!report.complete);
  QVERIFY2(report.error.contains("nonexistent-kvstudio-dir"), qPrintable(report.error));
  const QString label = child<QLabel>(w, "recordingLabel")->text();
  QVERIFY2(label.contains("Not recorded"), qPrintable(label));
  // The generation itself went on.
  QVERIFY(child<QPlainTextEdit>(w, "output")->toPlainText().size() > kPrompt.size());
  QVERIFY(!QFile::exists(path));
}

void TestRecordingGui::stopLeavesAnIncompleteReadableFile() {
  // As in test_main_window: the worker waits after a few text chunks until Stop is pressed.
  const QString path = files_.filePath("stopped.h5");
  QSemaphore stopPressed;
  std::atomic<int> chunks{0};
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  const auto unpause = qScopeGuard([&] { stopPressed.release(); });
  connect(
      w.worker(), &SessionWorker::textReady, w.worker(),
      [&](const QString&) {
        if (++chunks == 6) stopPressed.tryAcquire(1, kTimeoutMs);
      },
      Qt::DirectConnection);
  w.armRecording(options(path));
  QSignalSpy done(w.controller(), &SessionController::recordingDone);
  child<QPlainTextEdit>(w, "prompt")->setPlainText(kPrompt);
  child<QSpinBox>(w, "newTokens")->setValue(kvs::ui::test::newTokensFor(512));
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_VERIFY_WITH_TIMEOUT(chunks >= 6, kTimeoutMs);
  QTest::mouseClick(child<QPushButton>(w, "stop"), Qt::LeftButton);
  stopPressed.release();
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kTimeoutMs);
  const auto report = done.first().first().value<RecordingReport>();
  QVERIFY(!report.complete);
  QVERIFY2(child<QLabel>(w, "recordingLabel")->text().contains("incomplete"),
           qPrintable(child<QLabel>(w, "recordingLabel")->text()));

  const kvs::RecordingReader reader(path.toStdString());
  QVERIFY(!reader.info().complete);
  QVERIFY(reader.info().tokens >= reader.info().promptTokens);
  QVERIFY(reader.info().tokens < 512);
  // It opens too, and says it is incomplete.
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  QSignalSpy opened(w.controller(), &SessionController::recordingOpened);
  w.openRecording(path);
  QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeoutMs);
  QVERIFY(w.statusBar()->currentMessage().contains("incomplete"));
}

void TestRecordingGui::existingFileIsReplacedOnlyWhenTheUserSaysSo() {
  const QString path = files_.filePath("exists.h5");
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly));
  file.write("an older file");
  file.close();
  {
    RecordDialog dialog;
    child<QLineEdit>(dialog, "recordPath")->setText(path);
    child<QComboBox>(dialog, "recordDtype")->setCurrentText("float16");
    answerNextQuestion(QMessageBox::No);
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Rejected));  // still open: choose another path
    answerNextQuestion(QMessageBox::Yes);
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(dialog.options().overwrite);
  }
  const kvs::RecordingOptions saved = RecordDialog::savedOptions(QSettings());
  QCOMPARE(QString::fromStdString(saved.path), path);
  QVERIFY(saved.storage == kvs::StateStorage::kFloat16);
  QVERIFY(!saved.overwrite);  // asked again for each recording

  // Armed without that answer (e.g. the file appeared since): Run asks first.
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  child<QPlainTextEdit>(w, "prompt")->setPlainText(kPrompt);
  child<QSpinBox>(w, "newTokens")->setValue(kvs::ui::test::newTokensFor(160));
  w.armRecording(saved);
  QSignalSpy done(w.controller(), &SessionController::recordingDone);
  answerNextQuestion(QMessageBox::No);
  QTest::mouseClick(run, Qt::LeftButton);
  QVERIFY(run->isEnabled());  // not run
  QVERIFY(w.recordingArmed());
  QCOMPARE(QFileInfo(path).size(), qint64(13));
  answerNextQuestion(QMessageBox::Yes);
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kTimeoutMs);
  QVERIFY(done.first().first().value<RecordingReport>().complete);
  QVERIFY(kvs::RecordingReader(path.toStdString()).info().complete);
}

// A run refused before it records (a prompt longer than the context) reports "not recorded", and
// the arming does not carry over: the next run records nothing.
void TestRecordingGui::aRunThatFailsBeforeRecordingDoesNotArmTheNext() {
  const QString path = files_.filePath("never.h5");
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  w.armRecording(options(path));
  QSignalSpy done(w.controller(), &SessionController::recordingDone);
  QSignalSpy failed(w.controller(), &SessionController::failed);
  child<QPlainTextEdit>(w, "prompt")->setPlainText(kPrompt.repeated(20));  // > 512 tokens
  QTest::mouseClick(run, Qt::LeftButton);
  QTRY_COMPARE_WITH_TIMEOUT(done.count(), 1, kTimeoutMs);
  const auto report = done.first().first().value<RecordingReport>();
  QVERIFY2(report.error.contains("not recorded"), qPrintable(report.error));
  QTRY_VERIFY_WITH_TIMEOUT(failed.count() >= 1, kTimeoutMs);
  QVERIFY(!QFile::exists(path));

  QVERIFY(kvs::ui::test::runPrompt(w, kSteps));
  QTest::qWait(200);
  QCOMPARE(done.count(), 1);
  QVERIFY(!QFile::exists(path));
}

QTEST_MAIN(TestRecordingGui)
#include "test_recording_gui.moc"
