// kvstudio: the GUI. Usage: kvstudio [MODEL]; without MODEL it opens the model used last.

#include <QApplication>
#include <QCommandLineParser>
#include <cstdio>

#include "kvs/version.h"
#include "main_window.h"
#include "screenshot_driver.h"
#include "util/runtime.h"

int main(int argc, char** argv) {
  kvs::tuneAllocator();
  kvs::setComputeThreads(0);
  QApplication app(argc, argv);
  // These name the QSettings file: ~/.config/kvstudio/KV Studio.conf
  QApplication::setApplicationName(QStringLiteral("KV Studio"));
  QApplication::setOrganizationName(QStringLiteral("kvstudio"));
  QApplication::setApplicationVersion(QString::fromUtf8(kvs::kVersion));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("KV-cache compression explorer"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(
      QStringLiteral("model"),
      QStringLiteral("Model to open, or a .h5 recording to explore without the model (default: "
                     "the model used last, else %1)")
          .arg(QStringLiteral(KVS_DEFAULT_MODEL)),
      QStringLiteral("[model]"));
  const QCommandLineOption screenshot(
      QStringLiteral("screenshot"),
      QStringLiteral("Run the prompt, save the window as PNG to <file> and quit (README figures)"),
      QStringLiteral("file"));
  const QCommandLineOption prompt(QStringLiteral("prompt"),
                                  QStringLiteral("Prompt text for --screenshot"),
                                  QStringLiteral("text"));
  const QCommandLineOption select(QStringLiteral("select"),
                                  QStringLiteral("Layer,head shown by --screenshot (default 2,1)"),
                                  QStringLiteral("layer,head"), QStringLiteral("2,1"));
  const QCommandLineOption zoom(QStringLiteral("zoom"),
                                QStringLiteral("Tokens first,last shown by --screenshot"),
                                QStringLiteral("first,last"));
  parser.addOption(zoom);
  const QCommandLineOption compare(
      QStringLiteral("compare"),
      QStringLiteral("With --screenshot: compare the setting, H2O and StreamingLLM first"));
  parser.addOption(compare);
  const QCommandLineOption ratios(
      QStringLiteral("ratios"),
      QStringLiteral("With --screenshot: run the Layer ratios batch on its prompts file first"));
  parser.addOption(ratios);
  const QCommandLineOption size(
      QStringLiteral("size"),
      QStringLiteral("The window at WxH pixels in the default layout (e.g. 1366x768 for the "
                     "README's laptop screenshot)"),
      QStringLiteral("WxH"));
  parser.addOption(size);
  parser.addOption(screenshot);
  parser.addOption(prompt);
  parser.addOption(select);
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  kvs::ui::MainWindow window(args.isEmpty() ? QString() : args.first());
  if (parser.isSet(size)) {
    const QStringList wh = parser.value(size).split('x');
    const QSize wanted(wh.value(0).toInt(), wh.value(1).toInt());
    if (wanted.isEmpty()) {
      std::fprintf(stderr, "kvstudio: --size takes WxH, e.g. 1366x768\n");
      return 2;
    }
    window.resetLayout(wanted);
  }
  window.show();
  if (parser.isSet(screenshot)) {
    const QStringList lh = parser.value(select).split(',');
    auto* driver =
        new kvs::ui::ScreenshotDriver(&window, parser.value(screenshot), parser.value(prompt),
                                      lh.value(0).toInt(), lh.value(1).toInt());
    driver->setCompare(parser.isSet(compare));
    driver->setRatios(parser.isSet(ratios));
    if (parser.isSet(zoom)) {
      const QStringList fl = parser.value(zoom).split(',');
      driver->setView(fl.value(0).toInt(), fl.value(1).toInt());
    }
  }
  return QApplication::exec();
}
