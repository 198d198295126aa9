// The memory panel shows what Mistral's sliding window dropped (issue 17): the panel from a
// variant's figures, and a run of stories260K's weights exported as a Mistral folder with a
// window of 16 through the whole window (worker, decode path, panel).

#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test_util.h"
#include "main_window.h"
#include "memory_panel.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "qcustomplot_include.h"

using kvs::ui::MainWindow;
using kvs::ui::MemoryPanel;
using kvs::ui::VariantSummary;
using kvs::ui::test::child;

class TestMemoryWindow : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void panelShowsTheWindowsFigures();
  void aRunOfAWindowedModelShowsWhatItDropped();

 private:
  QTemporaryDir settingsDir_, dir_;
};

void TestMemoryWindow::initTestCase() {
  const QString problem =
      kvs::ui::test::isolateSettings(settingsDir_, QStringLiteral("KV Studio memory window test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestMemoryWindow::panelShowsTheWindowsFigures() {
  MemoryPanel panel;
  auto* label = child<QLabel>(panel, "windowMemory");
  VariantSummary s;
  s.bytesPerStep = {1000};
  s.fullBytesPerStep = {2000};
  panel.setVariant(s);  // no window: nothing said
  QVERIFY(label->isHidden());
  QVERIFY(panel.windowText().isEmpty());

  s.window.window = 4096;
  s.window.trimmed = true;
  s.window.droppedSlots = 1234;
  s.window.droppedBytes = 1234 * 2 * 128 * 2;
  s.window.maxHeadSlots = 4095;
  s.window.boundHeadSlots = 4159;
  panel.setVariant(s);
  const QLocale locale;
  const QString text = label->text();
  QVERIFY(!label->isHidden());
  QVERIFY2(
      text.startsWith("Sliding window " + locale.toString(4096) + ": " + locale.toString(1234) +
                      " slots dropped, " + locale.formattedDataSize(1234 * 2 * 128 * 2) + " saved"),
      qPrintable(text));
  QVERIFY2(text.contains(QString::fromUtf8("holds \u2264 ") + locale.toString(4159) +
                         " slots per head (at most " + locale.toString(4095) + " now)"),
           qPrintable(text));
  QCOMPARE(panel.viewJson()["window_dropped_slots"].toDouble(), 1234.0);

  s.window.trimmed = false;
  s.window.droppedSlots = 0;
  panel.setVariant(s);
  QVERIFY2(label->text().contains("every slot kept behind the mask (window cache: keep)"),
           qPrintable(label->text()));
}

void TestMemoryWindow::aRunOfAWindowedModelShowsWhatItDropped() {
  QVERIFY(dir_.isValid());
  kvs::Llama2cCheckpoint bin = kvs::readLlama2cCheckpoint(KVS_MODELS_DIR "/stories260K.bin");
  bin.config.family = kvs::ModelFamily::kMistral;
  bin.config.slidingWindow = 16;
  kvs::HfExportOptions options;
  options.tokenizerPath = KVS_MODELS_DIR "/tok512.model";
  const QString folder = dir_.filePath("mistral-stories");
  kvs::writeHfCheckpoint(folder.toStdString(), bin.config, bin.weights, options);

  MainWindow w(folder);
  w.show();
  const int positions = 96;
  QVERIFY(kvs::ui::test::runPrompt(w, positions));
  auto* label = child<QLabel>(w, "windowMemory");
  QTRY_VERIFY_WITH_TIMEOUT(!label->isHidden(), kvs::ui::test::kTimeoutMs);
  // The story may end before `positions`: the cache's length is the prompt's tokens plus one
  // per decode pass (the steps plot has a point after compression and after each pass). At most
  // all but the 15 a next query sees are gone from each of 5 layers x 4 KV heads (fewer when
  // the app's method merged some first), each slot a key and a value of 8 floats.
  const int passes = w.findChild<MemoryPanel*>()->compressedSteps()->data()->size() - 1;
  const int length = kvs::ui::test::promptTokens() + passes;
  QVERIFY2(length > 3 * 16, qPrintable(QString::number(length)));  // well past the window
  const QString text = label->text();
  const QRegularExpression line(
      QStringLiteral("^Sliding window 16: ([\\d,.\u00a0 ]+) slots "
                     "dropped, (.+) saved; "));
  const auto m = line.match(text);
  QVERIFY2(m.hasMatch(), qPrintable(text));
  const qint64 dropped = QString(m.captured(1)).remove(QRegularExpression("\\D")).toLongLong();
  QVERIFY2(dropped > 0 && dropped <= qint64(length - 15) * 5 * 4, qPrintable(text));
  QCOMPARE(m.captured(2), QLocale().formattedDataSize(dropped * 2 * 8 * 4));
  QVERIFY2(text.contains(QString::fromUtf8("holds \u2264 16 slots per head")), qPrintable(text));
}

QTEST_MAIN(TestMemoryWindow)
#include "test_memory_window.moc"
