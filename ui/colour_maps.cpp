#include "colour_maps.h"

#include <QColor>

namespace kvs::ui {
namespace {

QCPColorGradient fromStops(std::initializer_list<const char*> hex) {
  QCPColorGradient g;
  g.clearColorStops();
  const int n = static_cast<int>(hex.size());
  int i = 0;
  for (const char* h : hex) g.setColorStopAt(double(i++) / (n - 1), QColor(h));
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

}  // namespace

QStringList colourMapNames() {
  return {"viridis", "cividis", "magma", "grayscale", "polar"};
}

QCPColorGradient colourMap(const QString& name) {
  if (name == "cividis") {
    return fromStops({"#00224e", "#123570", "#3b496c", "#575d6d", "#707173", "#8a8779", "#a69d75",
                      "#c4b56c", "#fee838"});
  }
  if (name == "magma") {
    return fromStops({"#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761",
                      "#fec287", "#fcfdbf"});
  }
  if (name == "grayscale") return QCPColorGradient(QCPColorGradient::gpGrayscale);
  if (name == "polar") return QCPColorGradient(QCPColorGradient::gpPolar);
  return fromStops({"#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962",
                    "#addc30", "#fde725"});
}

}  // namespace kvs::ui
