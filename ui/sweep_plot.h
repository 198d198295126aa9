#pragma once
// The quality-versus-parameter figure (issue 20), drawn the same way by the app's Sweep view and
// by kvstudio-plot (the headless tool behind `compare --sweep --plot`): a measure of each
// (method, value) point against the swept parameter, one line per method, +-std error bars over
// several prompts, and the full cache as a dashed reference line across the axis.

#include "session/sweep_curves.h"

#include <QJsonObject>
#include <QString>
#include <QVector>

class QCustomPlot;
class QCPGraph;

namespace kvs::ui {

// Clears plot and draws curves' measure. Each method's graph is named after the method (its
// points sorted by x); the reference graph is named "full cache". logY: a logarithmic y axis
// (KL spans decades between budgets), on which points at or below zero are left out (the full
// cache's KL of 0 among them) and the bars span min-max over the prompts instead of +-std.
void drawSweep(QCustomPlot* plot, const kvs::SweepCurves& curves, kvs::SweepMeasure measure,
               bool logY = false);

// The graph of a method on a plot drawn by drawSweep (null when not drawn).
QCPGraph* sweepGraph(QCustomPlot* plot, const QString& method);

// The point a graph's data index stands for: its index in curves.points, -1 for none.
int sweepPointAt(const kvs::SweepCurves& curves, const QString& method, double x);

// Every point's value and statistics of every measure (the reference first), one row each:
// method, the parameter, x, prompts, then mean / std / min / max of each measure.
QString sweepCsv(const kvs::SweepCurves& curves);

// The sidecar's "view": the parameter, its values, the measure drawn, the prompts.
QJsonObject sweepViewJson(const kvs::SweepCurves& curves, kvs::SweepMeasure measure,
                          bool logY = false);

}  // namespace kvs::ui
