// The main window on a laptop screen: offscreen with one 1366x768 screen (a platform config file
// written before the application starts; the offscreen default is 800x600), the window fits,
// maximised or not, no dock asks for much room, and the default arrangement shows the prompt with
// Run, the heatmap, the output and the parameters at once, Output in front of its tabs. View >
// Reset layout brings that arrangement back, and a saved layout larger than the screen is not
// restored.

#include <QAction>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "gui_test_util.h"
#include "main_window.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

namespace {

constexpr QSize kScreen(1366, 768);
// Room a window manager takes on such a screen: a title bar and a taskbar.
constexpr int kTitleAndTaskbar = 48;
// No dock may ask for more than this: three of them side by side still leave the heatmap room.
constexpr QSize kDockMinimumAtMost(380, 340);

// Empty when `name` (a child of w) is shown: visible, inside the window and at least `least`
// large where it is not clipped; otherwise what is wrong.
QString notShown(const QWidget& w, const char* name, QSize least) {
  const auto* widget = w.findChild<QWidget*>(QString::fromLatin1(name));
  if (!widget) return QStringLiteral("%1 missing").arg(name);
  if (!widget->isVisible()) return QStringLiteral("%1 hidden").arg(name);
  const QRect inWindow(widget->mapTo(&w, QPoint(0, 0)), widget->size());
  const QRect visible = widget->visibleRegion().boundingRect();
  if (!w.rect().contains(inWindow) || visible.width() < least.width() ||
      visible.height() < least.height()) {
    return QStringLiteral("%1 at (%2,%3) %4x%5, visible %6x%7 of a %8x%9 window")
        .arg(name)
        .arg(inWindow.x())
        .arg(inWindow.y())
        .arg(inWindow.width())
        .arg(inWindow.height())
        .arg(visible.width())
        .arg(visible.height())
        .arg(w.width())
        .arg(w.height());
  }
  return {};
}

// What the default arrangement must show, and what a tab hides.
QString defaultArrangementProblem(const MainWindow& w) {
  QStringList problems;
  const std::pair<const char*, QSize> shown[] = {
      {"run", {40, 20}},
      {"prompt", {150, 40}},
      {"heatmapPlot", {360, 260}},
      {"output", {250, 60}},
      {"method", {80, 18}},
      {"outputDock", {250, 80}},
      {"parametersDock", {150, 120}},
  };
  for (const auto& [name, least] : shown) {
    const QString problem = notShown(w, name, least);
    if (!problem.isEmpty()) problems << problem;
  }
  for (const char* tab : {"compareDock", "layerRatioDock"}) {
    const auto* dock = w.findChild<QDockWidget*>(QString::fromLatin1(tab));
    // Tabs behind the current one stay "visible", moved out of the window with nothing shown.
    if (dock && dock->isVisible() && !dock->visibleRegion().isEmpty()) {
      problems << QStringLiteral("%1 in front of Output").arg(tab);
    }
  }
  return problems.join("; ");
}

QString minimumSizes(const MainWindow& w) {
  QStringList sizes;
  const auto describe = [](const QString& name, QSize s) {
    return QStringLiteral("%1 %2x%3").arg(name).arg(s.width()).arg(s.height());
  };
  sizes << describe("window", w.minimumSizeHint());
  sizes << describe("central", w.centralWidget()->minimumSizeHint());
  for (const QDockWidget* dock : w.findChildren<QDockWidget*>()) {
    sizes << describe(dock->objectName(), dock->minimumSizeHint());
  }
  return sizes.join(", ");
}

void waitForModel(const MainWindow& w) {
  QVERIFY(QTest::qWaitFor([&] { return child<QPushButton>(w, "run")->isEnabled(); }, kTimeoutMs));
}

}  // namespace

class TestLayout : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void init();
  void noDockAsksForMuchRoom();
  void fitsALaptopScreen();
  void fitsMaximised();
  void resetLayoutRestoresTheDefault();
  void savedLayoutThatFitsIsRestored();
  void savedLayoutLargerThanTheScreenIsNotRestored();

 private:
  QTemporaryDir settingsDir_;
};

void TestLayout::initTestCase() {
  const QString problem =
      test::isolateSettings(settingsDir_, QStringLiteral("KV Studio layout test"));
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
  QCOMPARE(QGuiApplication::primaryScreen()->availableGeometry().size(), kScreen);
}

void TestLayout::init() {
  QSettings().clear();  // each test starts as a new user, the saved-layout tests excepted
}

void TestLayout::noDockAsksForMuchRoom() {
  MainWindow w(kModel);
  w.show();
  waitForModel(w);
  // Before and after a run: the texts a run shows (the memory figures, the heatmap's range, the
  // model's description) must not widen the window.
  for (const bool ran : {false, true}) {
    if (ran) QVERIFY(runPrompt(w, 200));
    const QString sizes = minimumSizes(w);
    qInfo("%s: %s", ran ? "after a run" : "at start", qPrintable(sizes));
    QVERIFY2(w.minimumSizeHint().width() <= kScreen.width() &&
                 w.minimumSizeHint().height() <= kScreen.height() - 2 * kTitleAndTaskbar,
             qPrintable(sizes));
    for (const QDockWidget* dock : w.findChildren<QDockWidget*>()) {
      const QSize least = dock->minimumSizeHint();
      QVERIFY2(least.width() <= kDockMinimumAtMost.width() &&
                   least.height() <= kDockMinimumAtMost.height(),
               qPrintable(dock->objectName() + " asks too much: " + sizes));
    }
  }
}

void TestLayout::fitsALaptopScreen() {
  MainWindow w(kModel);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  waitForModel(w);
  const QRect screen = w.screen()->availableGeometry();
  const QSize frame = w.frameGeometry().size() - w.size();
  const QSize target(screen.width() - frame.width(),
                     screen.height() - kTitleAndTaskbar - frame.height());
  w.move(screen.topLeft());
  w.resize(target);
  QTest::qWait(50);
  QVERIFY2(w.size() == target, qPrintable(QStringLiteral("asked %1x%2, got %3x%4; %5")
                                              .arg(target.width())
                                              .arg(target.height())
                                              .arg(w.width())
                                              .arg(w.height())
                                              .arg(minimumSizes(w))));
  QVERIFY(screen.contains(w.frameGeometry()));
  QString problem = defaultArrangementProblem(w);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
  // A run fills every panel; the window keeps its size and the view.
  QVERIFY(runPrompt(w, 200));
  QTest::qWait(50);
  QCOMPARE(w.size(), target);
  problem = defaultArrangementProblem(w);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
  const auto size = [&](const char* name) {
    const QSize s = child<QWidget>(w, name)->size();
    return QStringLiteral("%1 %2x%3").arg(name).arg(s.width()).arg(s.height());
  };
  const QStringList sizes{size("promptDock"), size("parametersDock"), size("heatmapPlot"),
                          size("outputDock"), size("overviewDock"),   size("memoryDock")};
  qInfo("window %dx%d: %s", w.width(), w.height(), qPrintable(sizes.join(", ")));
}

void TestLayout::fitsMaximised() {
  MainWindow w(kModel);
  w.showMaximized();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  waitForModel(w);
  const QRect screen = w.screen()->availableGeometry();
  QTRY_VERIFY(w.isMaximized());
  QTest::qWait(50);
  // The offscreen platform maximises a window below its minimum size; a window manager keeps
  // the minimum, and such a window would reach past the screen.
  QVERIFY2(w.size().expandedTo(w.minimumSizeHint()) == w.size(), qPrintable(minimumSizes(w)));
  QVERIFY2(screen.contains(w.frameGeometry()), qPrintable(QStringLiteral("%1x%2 window; %3")
                                                              .arg(w.frameGeometry().width())
                                                              .arg(w.frameGeometry().height())
                                                              .arg(minimumSizes(w))));
  const QString problem = defaultArrangementProblem(w);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

void TestLayout::resetLayoutRestoresTheDefault() {
  MainWindow w(kModel);
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  waitForModel(w);
  // A user's rearrangement: Output closed, Parameters floating, Layer ratios
  // in front.
  child<QDockWidget>(w, "outputDock")->close();
  child<QDockWidget>(w, "parametersDock")->setFloating(true);
  child<QDockWidget>(w, "layerRatioDock")->raise();
  child<QDockWidget>(w, "promptDock")->hide();
  QTest::qWait(50);
  QVERIFY(!defaultArrangementProblem(w).isEmpty());

  auto* reset = w.findChild<QAction*>(QStringLiteral("resetLayout"));
  QVERIFY(reset);
  QVERIFY(!reset->shortcut().isEmpty());
  reset->trigger();
  QTest::qWait(50);
  QVERIFY(!child<QDockWidget>(w, "parametersDock")->isFloating());
  QVERIFY(w.screen()->availableGeometry().contains(w.frameGeometry()));
  const QString problem = defaultArrangementProblem(w);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// A layout saved on this screen comes back as it was left (here: Output
// closed).
void TestLayout::savedLayoutThatFitsIsRestored() {
  {
    MainWindow w(kModel);
    w.resize(1200, 660);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    waitForModel(w);
    child<QDockWidget>(w, "outputDock")->close();
  }  // saved on destruction
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  QCOMPARE(w.size(), QSize(1200, 660));
  QVERIFY(!child<QDockWidget>(w, "outputDock")->isVisible());
  waitForModel(w);
}

// A layout saved on a larger screen (or by an older version, without the
// window's size) is not restored: the default arrangement at a size that
// fits.
void TestLayout::savedLayoutLargerThanTheScreenIsNotRestored() {
  {
    MainWindow w(kModel);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    waitForModel(w);
    w.setGeometry(0, 0, 1900, 1040);  // as on a 1920x1080 screen
    QTest::qWait(50);
    child<QDockWidget>(w, "outputDock")->close();
  }
  MainWindow w;
  w.show();
  QVERIFY(QTest::qWaitForWindowExposed(&w));
  waitForModel(w);
  QTest::qWait(50);
  QVERIFY2(w.screen()->availableGeometry().contains(w.frameGeometry()),
           qPrintable(QStringLiteral("%1x%2").arg(w.width()).arg(w.height())));
  const QString problem = defaultArrangementProblem(w);
  QVERIFY2(problem.isEmpty(), qPrintable(problem));
}

// The offscreen platform with one laptop-sized screen, unless the caller
// chose another platform.
int main(int argc, char** argv) {
  QTemporaryDir configDir;
  const QByteArray platform = qgetenv("QT_QPA_PLATFORM");
  if (platform.isEmpty() || platform == "offscreen") {
    const QString config = configDir.filePath(QStringLiteral("screen.json"));
    QFile file(config);
    if (!file.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(config));
    file.write(QStringLiteral("{\"screens\": [{\"name\": \"laptop\", \"x\": 0, \"y\": 0, "
                              "\"width\": %1, \"height\": %2, \"logicalDpi\": 96}]}")
                   .arg(kScreen.width())
                   .arg(kScreen.height())
                   .toUtf8());
    file.close();
    qputenv("QT_QPA_PLATFORM", "offscreen:configfile=" + QFile::encodeName(config));
  }
  QApplication app(argc, argv);
  TestLayout test;
  QTEST_SET_MAIN_SOURCE_PATH
  return QTest::qExec(&test, argc, argv);
}

#include "test_layout.moc"
