#pragma once
// Perceptual colour maps for papers. QCustomPlot 2.1 has no viridis or cividis preset, so they
// are defined here by stops sampled from matplotlib's tables (viridis and cividis: 17 rows of
// the 256; magma: 9 stops; linear in between).

#include <QStringList>
#include "qcustomplot_include.h"

namespace kvs::ui {

// "viridis", "cividis", "magma", "grayscale", "polar" (diverging, for signed cosines).
QStringList colourMapNames();
QCPColorGradient colourMap(const QString& name);

}  // namespace kvs::ui
