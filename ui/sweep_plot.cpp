#include "sweep_plot.h"

#include "compress/compression_method.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <algorithm>
#include <cmath>
#include "qcustomplot_include.h"

namespace kvs::ui {
namespace {

// matplotlib's tab10, so a method keeps its colour in every figure of a paper.
QColor methodColour(int i) {
  static const QColor colours[] = {{31, 119, 180},  {255, 127, 14},  {44, 160, 44},
                                   {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
                                   {227, 119, 194}, {188, 189, 34},  {23, 190, 207}};
  return colours[i % 9];
}

const QCPScatterStyle::ScatterShape kShapes[] = {
    QCPScatterStyle::ssDisc,    QCPScatterStyle::ssSquare, QCPScatterStyle::ssTriangle,
    QCPScatterStyle::ssDiamond, QCPScatterStyle::ssCross,  QCPScatterStyle::ssPlus,
    QCPScatterStyle::ssCircle,  QCPScatterStyle::ssStar};

QString valueText(const nlohmann::json& v) {
  if (v.is_null()) return {};
  if (v.is_string()) return QString::fromStdString(v.get<std::string>());
  return QString::fromStdString(v.dump());
}

// 6 significant digits, as the CLI's CSV and the other figures' CSVs write numbers.
QString number(double v) {
  return QString::number(v, 'g', 6);
}

}  // namespace

SweepSpread sweepSpreadNamed(const QString& key) {
  return key == QStringLiteral("band") ? SweepSpread::kMinMaxBand : SweepSpread::kStdBars;
}

QString sweepSpreadKey(SweepSpread spread) {
  return spread == SweepSpread::kMinMaxBand ? QStringLiteral("band") : QStringLiteral("std");
}

void drawSweep(QCustomPlot* plot, const SweepCurves& curves, SweepMeasure measure, bool logY,
               SweepSpread spreadAs) {
  plot->clearPlottables();
  plot->clearItems();
  const bool spread = curves.prompts > 1;
  const bool band = spread && spreadAs == SweepSpread::kMinMaxBand;
  double lo = 0, hi = 1;
  bool any = false;
  const auto extend = [&](double y) {
    if (logY && y <= 0) return;
    lo = any ? std::min(lo, y) : y;
    hi = any ? std::max(hi, y) : y;
    any = true;
  };
  double xLo = 0, xHi = 1;
  if (!curves.points.empty()) {
    xLo = xHi = curves.points.front().x;
    for (const SweepPoint& p : curves.points) {
      xLo = std::min(xLo, p.x);
      xHi = std::max(xHi, p.x);
    }
  }
  const std::vector<std::string> methods = curves.methods();
  for (size_t m = 0; m < methods.size(); ++m) {
    std::vector<const SweepPoint*> points;
    for (const SweepPoint& p : curves.points) {
      if (p.method == methods[m]) points.push_back(&p);
    }
    std::sort(points.begin(), points.end(),
              [](const SweepPoint* a, const SweepPoint* b) { return a->x < b->x; });
    // Bars: +-std; on a log axis min-max, since mean - std is often below zero there. A band
    // spans min-max.
    const bool minMax = logY || band;
    QVector<double> x, y, below, above, lows, highs;
    for (const SweepPoint* p : points) {
      const SweepStats& s = p->of(measure);
      if (logY && s.mean <= 0) continue;
      x.push_back(p->x);
      y.push_back(s.mean);
      below.push_back(minMax ? s.mean - s.min : s.std);
      above.push_back(minMax ? s.max - s.mean : s.std);
      lows.push_back(s.min);
      highs.push_back(s.max);
      extend(s.mean - (spread ? below.back() : 0));
      extend(s.mean + (spread ? above.back() : 0));
    }
    // The band's edges first, so the line and its points lie on top (and take the clicks).
    QCPGraph* low = band ? plot->addGraph() : nullptr;
    QCPGraph* high = band ? plot->addGraph() : nullptr;
    QCPGraph* g = plot->addGraph();
    g->setName(QString::fromStdString(methods[m]));
    // By the method's place in the registry, so it keeps its colour whichever are drawn.
    int place = static_cast<int>(m);
    const auto& all = allMethods();
    for (size_t r = 0; r < all.size(); ++r) {
      if (all[r]->name() == methods[m]) place = static_cast<int>(r);
    }
    const QColor colour = methodColour(place);
    g->setPen(QPen(colour, 2));
    g->setScatterStyle(QCPScatterStyle(kShapes[place % 8], colour, 7));
    g->setData(x, y, /*alreadySorted=*/true);
    if (band) {
      QColor fill = colour;
      fill.setAlpha(50);
      for (QCPGraph* edge : {low, high}) {
        edge->setName(g->name() + (edge == low ? QStringLiteral(" min") : QStringLiteral(" max")));
        edge->setPen(Qt::NoPen);
        edge->setSelectable(QCP::stNone);
        edge->removeFromLegend();
      }
      low->setData(x, lows, /*alreadySorted=*/true);
      high->setData(x, highs, /*alreadySorted=*/true);
      high->setBrush(fill);
      high->setChannelFillGraph(low);
    } else if (spread) {
      auto* bars = new QCPErrorBars(plot->xAxis, plot->yAxis);
      bars->setName(g->name() + QStringLiteral(" \u00b1 std"));
      bars->setDataPlottable(g);
      bars->setData(below, above);
      bars->setPen(QPen(colour, 1.5));
      bars->removeFromLegend();
    }
  }
  // The full cache across the whole axis: what every method approaches.
  const double full = curves.reference.of(measure).mean;
  extend(full);
  QCPGraph* reference = plot->addGraph();
  reference->setName(QStringLiteral("full cache"));
  reference->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
  if (!logY || full > 0) {
    reference->setData(QVector<double>{xLo, xHi}, QVector<double>{full, full});
  } else {
    reference->removeFromLegend();  // the full cache's KL of 0 has no place on a log axis
  }
  if (logY) {
    plot->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  } else if (plot->yAxis->scaleType() != QCPAxis::stLinear) {
    plot->yAxis->setScaleType(QCPAxis::stLinear);
    plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }

  // The Parameters panel's label without its keyboard mnemonic.
  QString xLabel = QString::fromStdString(curves.label.empty() ? curves.key : curves.label);
  plot->xAxis->setLabel(xLabel.remove('&'));
  plot->yAxis->setLabel(QString::fromStdString(measureLabel(measure)));
  const double xPad = xHi > xLo ? (xHi - xLo) * 0.04 : 0.5;
  plot->xAxis->setRange(xLo - xPad, xHi + xPad);
  if (logY && any) {
    plot->yAxis->setRange(lo / 1.5, hi * 1.5);
  } else {
    const double yPad = hi > lo ? (hi - lo) * 0.06 : std::max(std::abs(hi) * 0.1, 0.01);
    plot->yAxis->setRange(lo - yPad, hi + yPad);
  }
  plot->legend->setVisible(true);
  // Out of the curves' way: they fall towards larger budgets, except agreement, which rises.
  plot->axisRect()->insetLayout()->setInsetAlignment(
      0, Qt::AlignRight | (measure == SweepMeasure::kTop1 ? Qt::AlignBottom : Qt::AlignTop));
  plot->replot();
}

QCPGraph* sweepGraph(QCustomPlot* plot, const QString& method) {
  for (int i = 0; i < plot->graphCount(); ++i) {
    if (plot->graph(i)->name() == method) return plot->graph(i);
  }
  return nullptr;
}

int sweepPointAt(const SweepCurves& curves, const QString& method, double x) {
  for (size_t i = 0; i < curves.points.size(); ++i) {
    const SweepPoint& p = curves.points[i];
    if (QString::fromStdString(p.method) == method && p.x == x) return static_cast<int>(i);
  }
  return -1;
}

QString sweepCsv(const SweepCurves& curves) {
  QString csv = QStringLiteral("method,") + QString::fromStdString(curves.key) +
                QStringLiteral(",x,prompts,prompt");
  for (SweepMeasure m : sweepMeasures()) {
    const QString key = QString::fromStdString(measureKey(m));
    for (const char* s : {"mean", "std", "min", "max"}) csv += ',' + key + '_' + s;
  }
  csv += '\n';
  const auto start = [&](const SweepPoint& p, const QString& prompt) {
    csv += QString::fromStdString(p.method) + ',' + valueText(p.value) + ',' +
           (p.value.is_null() ? QString() : number(p.x)) + ',' + QString::number(curves.prompts) +
           ',' + prompt;
  };
  const auto row = [&](const SweepPoint& p) {
    start(p, QStringLiteral("all"));
    for (SweepMeasure m : sweepMeasures()) {
      const SweepStats& s = p.of(m);
      csv += ',' + number(s.mean) + ',' + number(s.std) + ',' + number(s.min) + ',' + number(s.max);
    }
    csv += '\n';
  };
  // One prompt's values: the summary rows already are them.
  const auto promptRows = [&](const SweepPoint& p) {
    if (p.perPrompt.size() < 2) return;
    for (size_t i = 0; i < p.perPrompt.size(); ++i) {
      start(p, QString::number(i + 1));
      for (SweepMeasure m : sweepMeasures())
        csv += ',' + number(p.perPrompt[i][static_cast<size_t>(m)]) + QStringLiteral(",,,");
      csv += '\n';
    }
  };
  row(curves.reference);
  for (const SweepPoint& p : curves.points) row(p);
  promptRows(curves.reference);
  for (const SweepPoint& p : curves.points) promptRows(p);
  return csv;
}

QJsonObject sweepViewJson(const SweepCurves& curves, SweepMeasure measure, bool logY,
                          SweepSpread spread) {
  QJsonArray values;
  for (const nlohmann::json& v : curves.values) {
    values.append(
        QJsonDocument::fromJson(QByteArray::fromStdString("[" + v.dump() + "]")).array().at(0));
  }
  QJsonArray methods;
  for (const std::string& m : curves.methods()) methods.append(QString::fromStdString(m));
  return {{"sweep", QString::fromStdString(curves.text)},
          {"parameter", QString::fromStdString(curves.key)},
          {"values", values},
          {"methods", methods},
          {"measure", QString::fromStdString(measureKey(measure))},
          {"prompts", curves.prompts},
          {"y_scale", logY ? QStringLiteral("log") : QStringLiteral("linear")},
          {"error_bars", curves.prompts <= 1 ? QStringLiteral("none (one prompt)")
                         : spread == SweepSpread::kMinMaxBand
                             ? QStringLiteral("min-max band over prompts")
                         : logY ? QStringLiteral("min-max over prompts")
                                : QStringLiteral("mean +- population std over prompts")}};
}

}  // namespace kvs::ui
