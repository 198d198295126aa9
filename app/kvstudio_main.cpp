// kvstudio: the GUI. Usage: kvstudio [MODEL]; without MODEL it opens the model used last.

#include <QApplication>
#include <QCommandLineParser>

#include "kvs/version.h"
#include "main_window.h"
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
      QStringLiteral("llama2.c checkpoint to open (default: the one used last, else %1)")
          .arg(QStringLiteral(KVS_DEFAULT_MODEL)),
      QStringLiteral("[model]"));
  parser.process(app);

  const QStringList args = parser.positionalArguments();
  kvs::ui::MainWindow window(args.isEmpty() ? QString() : args.first());
  window.show();
  return QApplication::exec();
}
