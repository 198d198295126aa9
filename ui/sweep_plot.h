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

// How the spread over several prompts is drawn: +-std error bars, or a shaded min-max band.
enum class SweepSpread { kStdBars, kMinMaxBand };
SweepSpread sweepSpreadNamed(const QString& key);  // "std" or "band"; anything else: kStdBars
QString sweepSpreadKey(SweepSpread spread);

// Clears plot and draws curves' measure. Each method's graph is named after the method (its
// points sorted by x); the reference graph is named "full cache". logY: a logarithmic y axis
// (KL spans decades between budgets), on which points at or below zero are left out (the full
// cache's KL of 0 among them) and the bars span min-max over the prompts instead of +-std.
// With one prompt there is no spread to draw.
void drawSweep(QCustomPlot* plot, const kvs::SweepCurves& curves, kvs::SweepMeasure measure,
               bool logY = false, SweepSpread spread = SweepSpread::kStdBars);

// The graph of a method on a plot drawn by drawSweep (null when not drawn).
QCPGraph* sweepGraph(QCustomPlot* plot, const QString& method);

// The point a graph's data index stands for: its index in curves.points, -1 for none.
int sweepPointAt(const kvs::SweepCurves& curves, const QString& method, double x);

// Every point's statistics of every measure (the reference first), one row each: method, the
// parameter, x, prompts, prompt "all", then mean / std / min / max of each measure; then, over
// several prompts, every prompt's value of every point, one row each: prompt 1..n, the value in
// each measure's _mean column and its std / min / max left empty.
QString sweepCsv(const kvs::SweepCurves& curves);

// The sidecar's "view": the parameter, its values, the measure drawn, the prompts, the spread.
QJsonObject sweepViewJson(const kvs::SweepCurves& curves, kvs::SweepMeasure measure,
                          bool logY = false, SweepSpread spread = SweepSpread::kStdBars);

}  // namespace kvs::ui
