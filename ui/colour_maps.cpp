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

// Rows 0, 16, 32, ..., 240 and 255 of matplotlib's 256-entry tables (_cm_listed.py, the
// published viridis and cividis definitions: reference numbers, sRGB in [0, 1]). Linear RGB
// interpolation between 17 stops stays within 2/255 of the full tables.
struct Rgb {
  double r, g, b;
};
constexpr int kTableRows[17] = {0,   16,  32,  48,  64,  80,  96,  112, 128,
                                144, 160, 176, 192, 208, 224, 240, 255};
constexpr Rgb kViridis[17] = {
    {0.267004, 0.004874, 0.329415}, {0.282327, 0.094955, 0.417331}, {0.278826, 0.175490, 0.483397},
    {0.258965, 0.251537, 0.524736}, {0.229739, 0.322361, 0.545706}, {0.199430, 0.387607, 0.554642},
    {0.172719, 0.448791, 0.557885}, {0.149039, 0.508051, 0.557250}, {0.127568, 0.566949, 0.550556},
    {0.120638, 0.625828, 0.533488}, {0.157851, 0.683765, 0.501686}, {0.246070, 0.738910, 0.452024},
    {0.369214, 0.788888, 0.382914}, {0.515992, 0.831158, 0.294279}, {0.678489, 0.863742, 0.189503},
    {0.845561, 0.887322, 0.099702}, {0.993248, 0.906157, 0.143936}};
constexpr Rgb kCividis[17] = {
    {0.000000, 0.135112, 0.304751}, {0.000000, 0.178802, 0.414764}, {0.103401, 0.220406, 0.435790},
    {0.195057, 0.264372, 0.425924}, {0.263738, 0.307831, 0.422789}, {0.324250, 0.351289, 0.426250},
    {0.380830, 0.395164, 0.435653}, {0.435168, 0.439763, 0.451134}, {0.488697, 0.485318, 0.471008},
    {0.547840, 0.531895, 0.471704}, {0.609105, 0.579816, 0.463638}, {0.671991, 0.629316, 0.448018},
    {0.736488, 0.680629, 0.424028}, {0.802667, 0.733978, 0.390153}, {0.870717, 0.789572, 0.343333},
    {0.941147, 0.847530, 0.275815}, {0.995737, 0.909344, 0.217772}};

QCPColorGradient fromTable(const Rgb (&table)[17]) {
  QCPColorGradient g;
  g.clearColorStops();
  for (int i = 0; i < 17; ++i) {
    g.setColorStopAt(kTableRows[i] / 255.0,
                     QColor::fromRgbF(float(table[i].r), float(table[i].g), float(table[i].b)));
  }
  g.setColorInterpolation(QCPColorGradient::ciRGB);
  return g;
}

}  // namespace

QStringList colourMapNames() {
  return {"viridis", "cividis", "magma", "grayscale", "polar"};
}

QCPColorGradient colourMap(const QString& name) {
  if (name == "cividis") return fromTable(kCividis);
  if (name == "magma") {
    return fromStops({"#000004", "#1c1044", "#4f127b", "#812581", "#b5367a", "#e55064", "#fb8761",
                      "#fec287", "#fcfdbf"});
  }
  if (name == "grayscale") return QCPColorGradient(QCPColorGradient::gpGrayscale);
  if (name == "polar") return QCPColorGradient(QCPColorGradient::gpPolar);
  return fromTable(kViridis);
}

}  // namespace kvs::ui
