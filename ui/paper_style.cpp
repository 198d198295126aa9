#include "paper_style.h"

#include <QSettings>
#include "qcustomplot_include.h"

#include "colour_maps.h"

namespace kvs::ui {

PaperStyle PaperStyle::load(const QSettings& s) {
  PaperStyle d;
  PaperStyle p;
  p.enabled = s.value("paperStyle/enabled", d.enabled).toBool();
  p.fontFamily = s.value("paperStyle/fontFamily", d.fontFamily).toString();
  p.tickPt = s.value("paperStyle/tickPt", d.tickPt).toInt();
  p.labelPt = s.value("paperStyle/labelPt", d.labelPt).toInt();
  p.titlePt = s.value("paperStyle/titlePt", d.titlePt).toInt();
  p.colourMap = s.value("paperStyle/colourMap", d.colourMap).toString();
  p.colourBarLabel = s.value("paperStyle/colourBarLabel", d.colourBarLabel).toString();
  p.lineWidth = s.value("paperStyle/lineWidth", d.lineWidth).toDouble();
  return p;
}

void PaperStyle::save(QSettings& s) const {
  s.setValue("paperStyle/enabled", enabled);
  s.setValue("paperStyle/fontFamily", fontFamily);
  s.setValue("paperStyle/tickPt", tickPt);
  s.setValue("paperStyle/labelPt", labelPt);
  s.setValue("paperStyle/titlePt", titlePt);
  s.setValue("paperStyle/colourMap", colourMap);
  s.setValue("paperStyle/colourBarLabel", colourBarLabel);
  s.setValue("paperStyle/lineWidth", lineWidth);
}

QJsonObject PaperStyle::toJson() const {
  return QJsonObject{{"font_family", fontFamily}, {"tick_pt", tickPt},
                     {"label_pt", labelPt},       {"title_pt", titlePt},
                     {"colour_map", colourMap},   {"colour_bar_label", colourBarLabel},
                     {"line_width", lineWidth}};
}

bool PaperStyle::operator==(const PaperStyle& o) const {
  return enabled == o.enabled && fontFamily == o.fontFamily && tickPt == o.tickPt &&
         labelPt == o.labelPt && titlePt == o.titlePt && colourMap == o.colourMap &&
         colourBarLabel == o.colourBarLabel && lineWidth == o.lineWidth;
}

namespace {

QFont sized(QFont font, const QString& family, int pt) {
  if (!family.isEmpty()) font.setFamily(family);
  font.setPointSize(pt);
  return font;
}

}  // namespace

PaperStyleScope::PaperStyleScope(QCustomPlot* plot, const PaperStyle& style) : plot_(plot) {
  auto& saved = restore_;
  const auto styleAxis = [&](QCPAxis* a) {
    saved.push_back([a, t = a->tickLabelFont(), l = a->labelFont()] {
      a->setTickLabelFont(t);
      a->setLabelFont(l);
    });
    a->setTickLabelFont(sized(a->tickLabelFont(), style.fontFamily, style.tickPt));
    a->setLabelFont(sized(a->labelFont(), style.fontFamily, style.labelPt));
  };
  for (QCPAxisRect* rect : plot->axisRects()) {
    for (QCPAxis* a : rect->axes()) styleAxis(a);
  }
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true)) {
    if (auto* scale = qobject_cast<QCPColorScale*>(e)) {
      styleAxis(scale->axis());
      saved.push_back([scale, g = scale->gradient(), l = scale->label()] {
        scale->setGradient(g);
        scale->setLabel(l);
      });
      if (!style.colourMap.isEmpty()) scale->setGradient(colourMap(style.colourMap));
      if (!style.colourBarLabel.isEmpty()) scale->setLabel(style.colourBarLabel);
    } else if (auto* title = qobject_cast<QCPTextElement*>(e)) {
      saved.push_back([title, f = title->font()] { title->setFont(f); });
      title->setFont(sized(title->font(), style.fontFamily, style.titlePt));
    } else if (!qobject_cast<QCPLegend*>(e) && !qobject_cast<QCPAbstractLegendItem*>(e) &&
               e->metaObject()->indexOfProperty("font") >= 0) {
      // Other text of the figure (a legend of the heatmap's marks): the tick labels' size. The
      // plot's own legend follows below.
      const QVariant font = e->property("font");
      saved.push_back([e, font] { e->setProperty("font", font); });
      e->setProperty("font", sized(font.value<QFont>(), style.fontFamily, style.tickPt));
    }
  }
  if (plot->legend) {
    QCPLegend* legend = plot->legend;
    saved.push_back([legend, f = legend->font()] { legend->setFont(f); });
    legend->setFont(sized(legend->font(), style.fontFamily, style.tickPt));
  }
  for (int i = 0; i < plot->plottableCount(); ++i) {
    QCPAbstractPlottable* p = plot->plottable(i);
    if (auto* map = qobject_cast<QCPColorMap*>(p)) {
      saved.push_back([map, g = map->gradient()] { map->setGradient(g); });
      if (!style.colourMap.isEmpty()) map->setGradient(colourMap(style.colourMap));
      continue;
    }
    saved.push_back([p, pen = p->pen()] { p->setPen(pen); });
    QPen pen = p->pen();
    pen.setWidthF(style.lineWidth);
    p->setPen(pen);
  }
  plot->replot(QCustomPlot::rpImmediateRefresh);
}

PaperStyleScope::~PaperStyleScope() {
  // The reverse of the order they were applied in.
  for (auto it = restore_.rbegin(); it != restore_.rend(); ++it) (*it)();
  plot_->replot();
}

}  // namespace kvs::ui
