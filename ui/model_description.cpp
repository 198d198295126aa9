#include "model_description.h"

#include <QFileInfo>

namespace kvs::ui {
namespace {

// Three significant digits: "260K", "15.2M", "6.74B".
QString formatCount(int64_t n) {
  const char* units[] = {"", "K", "M", "B"};
  double value = static_cast<double>(n);
  int unit = 0;
  // Round first, so 999,999 reads "1M" rather than "1e+03K".
  while (unit < 3 && QString::number(value, 'g', 3).toDouble() >= 1000) {
    value /= 1000;
    ++unit;
  }
  return QString::number(value, 'g', 3) + units[unit];
}

}  // namespace

QString describeModel(const QString& path, const ModelConfig& c, const QString& tokenizerPath) {
  return QStringLiteral("%1: %2 params, %3 layers, context %4, %5")
      .arg(QFileInfo(path).fileName(), formatCount(c.parameterCount()))
      .arg(c.nLayers)
      .arg(c.seqLen)
      .arg(QFileInfo(tokenizerPath).fileName());
}

}  // namespace kvs::ui
