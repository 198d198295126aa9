// The Prompt panel, offscreen on stories260K: the live token counter under the prompt (tokens /
// context) counts what the request will read, BOS and the chat format included, as the user
// types; model paths are kept absolute, so the app started from another folder reopens the last
// model.

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QLabel>
#include <QLineEdit>
#include <QScopeGuard>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test_util.h"
#include "main_window.h"
#include "prompt_panel.h"
#include "prompt_token_counter.h"
#include "session_controller.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

class TestPromptPanel : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void tokenCounterFollowsThePrompt();
  void modelPathIsStoredAbsolute();

 private:
  QTemporaryDir settingsDir_;
};

void TestPromptPanel::initTestCase() {
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio prompt test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestPromptPanel::tokenCounterFollowsThePrompt() {
  const kvs::Tokenizer tokenizer = kvs::Tokenizer::load(KVS_MODELS_DIR "/tok512.model");
  const auto tokens = [&](const QString& text) {
    return static_cast<int>(tokenizer.encode(text.toStdString(), true).size());
  };
  MainWindow w(kModel);
  w.show();
  auto* counter = w.findChild<PromptTokenCounter*>();
  QVERIFY(counter);
  const auto* label = child<QLabel>(w, "tokenCount");
  auto* prompt = child<QPlainTextEdit>(w, "prompt");
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
  QTRY_VERIFY_WITH_TIMEOUT(counter->hasTokenizer(), kTimeoutMs);

  prompt->setPlainText(QStringLiteral("Once upon a time"));
  QTRY_COMPARE(label->text(),
               QStringLiteral("%1 tokens + 256 new / 512 context").arg(tokens("Once upon a time")));
  // Typing updates it once the keys pause.
  QSignalSpy counted(counter, &PromptTokenCounter::counted);
  prompt->moveCursor(QTextCursor::End);
  QTest::keyClicks(prompt, QStringLiteral(", there was a dog"));
  QVERIFY(counted.wait(5000));
  QCOMPARE(counted.count(), 1);  // one count after the last key, not one per key
  const int typed = tokens("Once upon a time, there was a dog");
  QCOMPARE(counted.last().first().toInt(), typed);
  QCOMPARE(label->text(), QStringLiteral("%1 tokens + 256 new / 512 context").arg(typed));

  // The chat format's tokens count too, the system prompt's among them.
  child<QCheckBox>(w, "chat")->setChecked(true);
  child<QLineEdit>(w, "system")->setText(QStringLiteral("Be brief."));
  const int chat = static_cast<int>(
      kvs::encodeLlama2Chat(tokenizer, "Be brief.", {{"Once upon a time, there was a dog", ""}})
          .size());
  QVERIFY(chat > typed);
  QTRY_COMPARE(label->text(), QStringLiteral("%1 tokens + 256 new / 512 context").arg(chat));
  child<QCheckBox>(w, "chat")->setChecked(false);

  // Past the context it says so; counting a long prompt on the GUI thread stays cheap.
  QString longPrompt;
  for (int i = 0; i < 10; ++i) longPrompt += kPrompt + ' ';
  prompt->setPlainText(longPrompt);
  QTRY_VERIFY(label->text().endsWith(QStringLiteral("longer than the context")));
  QElapsedTimer timer;
  timer.start();
  const GenerationJob job = w.findChild<PromptPanel*>()->job();
  for (int i = 0; i < 10; ++i) QVERIFY(counter->count(job) > 512);
  qInfo("counting %d characters: %.3f ms", int(longPrompt.size()), timer.nsecsElapsed() / 1e7);

  // The count is the prompt the run reads, and New tokens what it generates.
  QVERIFY(runPrompt(w, 200));
  const int P = tokens(kPrompt);
  QTRY_COMPARE(label->text(),
               QStringLiteral("%1 tokens + %2 new / 512 context").arg(P).arg(201 - P));

  // More new tokens than the context leaves: the counter says how many the run makes.
  child<QSpinBox>(w, "newTokens")->setValue(500);
  QCOMPARE(label->text(),
           QStringLiteral("%1 tokens + 500 new / 512 context: %2 new fit").arg(P).arg(513 - P));
  QCOMPARE(static_cast<int>(w.controller()->prompt().ids.size()), tokens(kPrompt));
}

void TestPromptPanel::modelPathIsStoredAbsolute() {
  const QString start = QDir::currentPath();
  const auto back = qScopeGuard([&] { QDir::setCurrent(start); });
  const QFileInfo model(kModel);
  const QString absolute = model.absoluteFilePath();
  QVERIFY(QDir::setCurrent(model.absolutePath() + "/.."));
  const QString relative = model.dir().dirName() + '/' + model.fileName();  // models/x.bin
  QVERIFY(QFile::exists(relative));
  {
    MainWindow w(relative);
    QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
    QCOMPARE(child<QLineEdit>(w, "modelPath")->text(), absolute);
    QCOMPARE(QSettings().value("model/recent").toStringList().value(0), absolute);
    // A relative path typed in the field is made absolute before it loads.
    auto* path = child<QLineEdit>(w, "modelPath");
    path->setText(relative);
    QTest::keyClick(path, Qt::Key_Return);
    QCOMPARE(path->text(), absolute);
    QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
  }  // saved on destruction
  QCOMPARE(QSettings().value("model/path").toString(), absolute);

  QTemporaryDir elsewhere;
  QVERIFY(QDir::setCurrent(elsewhere.path()));
  MainWindow w;  // the model used last, from another folder
  QCOMPARE(child<QLineEdit>(w, "modelPath")->text(), absolute);
  QTRY_VERIFY_WITH_TIMEOUT(child<QPushButton>(w, "run")->isEnabled(), kTimeoutMs);
}

QTEST_MAIN(TestPromptPanel)
#include "test_prompt_panel.moc"
