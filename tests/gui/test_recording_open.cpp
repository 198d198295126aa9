// Opening a damaged recording in the app: a message naming the problem, and the session goes on
// with its model. A file that crashes libhdf5 itself is read in a child process first
// (core/io/recording_check.h), so the app survives it.

#include "model/cli_runner.h"

#include <QCoreApplication>
#include <QFile>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test_util.h"
#include "session_controller.h"

using namespace kvs::ui;
using kvs::ui::test::child;
using kvs::ui::test::kModel;
using kvs::ui::test::kTimeoutMs;

class TestRecordingOpen : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void foreignFileIsAMessage();
  void fileThatCrashesLibhdf5IsAMessage();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestRecordingOpen::initTestCase() {
  QVERIFY(dir_.isValid());
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio recording open test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// Opening `path` fails with a message containing `needle`; the model stays and Run works.
void expectOpenIsAMessage(const QString& path, const QString& needle) {
  MainWindow w(kModel);
  w.show();
  auto* run = child<QPushButton>(w, "run");
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  QSignalSpy failed(w.controller(), &SessionController::failed);
  w.openRecording(path);
  QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, kTimeoutMs);
  const QString output = child<QPlainTextEdit>(w, "output")->toPlainText();
  QVERIFY2(output.contains(needle), qPrintable(output));
  QTRY_VERIFY_WITH_TIMEOUT(run->isEnabled(), kTimeoutMs);
  QVERIFY(child<QLabel>(w, "modelLabel")->text().startsWith("stories260K.bin"));
  QVERIFY(!w.controller()->recordingOpen());
  QVERIFY(kvs::ui::test::runPrompt(w, 160));
}

// A flipped bit in the global heap (where the variable-length string attributes live) crashes
// libhdf5 itself; the app reads recordings in a child process first, so it says the file is
// corrupt and keeps its model.
void TestRecordingOpen::fileThatCrashesLibhdf5IsAMessage() {
  const QString path = dir_.filePath("crashing.h5");
  const auto made = kvs::test::runCliCommand("generate --model " KVS_MODELS_DIR
                                             "/stories260K.bin --prompt 'Once upon a time' "
                                             "--steps 12 --temperature 0 --record " +
                                             path.toStdString());
  QVERIFY2(made.exitCode == 0, made.err.c_str());
  std::string bytes = kvs::test::readFile(path.toStdString());
  const size_t heap = bytes.find("GCOL");  // the first global heap collection
  QVERIFY(heap != std::string::npos);
  bytes.at(heap + 31) = char(bytes.at(heap + 31) ^ 0x80);
  kvs::test::writeFile(path.toStdString(), bytes);
  expectOpenIsAMessage(path, "corrupt");
}

void TestRecordingOpen::foreignFileIsAMessage() {
  const QString path = dir_.filePath("foreign.h5");
  QFile file(path);
  QVERIFY(file.open(QIODevice::WriteOnly));
  file.write("this is not an HDF5 file\n");
  file.close();
  expectOpenIsAMessage(path, "foreign.h5");
}

QTEST_MAIN(TestRecordingOpen)
#include "test_recording_open.moc"
