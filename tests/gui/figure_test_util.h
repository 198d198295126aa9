#pragma once
// Shared by the figure tests: a heatmap of a made-up matrix and layout (no model), exported through
// an ExportMenu as the File menu does, and Ghostscript to read the PDFs back as pixels and text.

#include <QDir>
#include <QImage>
#include <QMenu>
#include <QProcess>
#include <QStandardPaths>
#include <QString>
#include <QTemporaryFile>
#include <QWidget>
#include "qcustomplot_include.h"

#include "export_menu.h"
#include "heatmap_panel.h"

namespace kvs::ui::test {

// T tokens "t0".."t119" whose matrix is a checkerboard of 0 and 1 (so every cell's edges show),
// in viridis, with one KVMerger-like layout: a set 10..19 around pivot 15, tokens 30, 34 and 38
// protected (apart, so each mark can be measured), 50..59 evicted, the rest kept as they are.
struct SyntheticHeatmap {
  static constexpr int kSetFirst = 10, kSetLast = 19, kPivot = 15;
  static constexpr int kProtected[] = {30, 34, 38};
  static constexpr int kEvictedFirst = 50, kEvictedLast = 59;

  QWidget window;
  QMenu menu;
  HeatmapPanel* panel;
  ExportMenu exports;
  kvs::CompressionParams params;

  explicit SyntheticHeatmap(int T = 120)
      : panel(new HeatmapPanel(&window)),
        exports(&menu, nullptr, &window, [](const QJsonObject& view) {
          return QJsonObject{{"view", view}};
        }) {
    window.resize(640, 640);
    panel->resize(640, 640);
    panel->setColourMapName("viridis");
    exports.addView(panel);
    PromptInfo info;
    info.layers = 1;
    info.kvHeads = 1;
    info.queryHeads = 1;
    for (int i = 0; i < T; ++i) {
      info.ids.push_back(i);
      info.pieces.push_back(QStringLiteral("t%1").arg(i));
    }
    panel->setPrompt(info);
    SimilarityResult r;
    r.matrix.source = kvs::SimilaritySource::kKeys;
    r.matrix.layer = panel->layer();
    r.matrix.head = panel->head();
    r.matrix.tokens = T;
    r.matrix.values.resize(size_t(T) * T);
    for (int i = 0; i < T; ++i) {
      for (int j = 0; j < T; ++j) r.matrix.values[size_t(i) * T + j] = float((i + j) % 2);
    }
    panel->setMatrix(r);
    params.method = "kvmerger";
    params.budget = 0.5;
    panel->setLayout(layout(T, params));
    window.show();
  }

  static LayoutResult layout(int T, const kvs::CompressionParams& params) {
    kvs::HeadLayout head;
    head.isProtected.assign(T, 0);
    for (int t = 0; t < T; ++t) {
      if (t >= kEvictedFirst && t <= kEvictedLast) continue;
      if (t > kSetFirst && t <= kSetLast) continue;
      if (t == kSetFirst) {
        head.slots.push_back({kSetFirst, kSetLast, kPivot, kSetLast - kSetFirst + 1, 0.0});
      } else {
        head.slots.push_back(kvs::Slot::token(t));
      }
      for (int p : kProtected) head.isProtected[t] = head.isProtected[t] || p == t;
    }
    LayoutResult result;
    result.params = params;
    result.layout.tokens = T;
    result.layout.heads = {{head}};
    return result;
  }

  QString exportAs(const QString& path, double width, double height, bool legend = false,
                   bool title = false) {
    ExportRequest r;
    r.path = path;
    r.format = formatForPath(path);
    r.unit = ExportRequest::Unit::kInches;
    r.width = width;
    r.height = height;
    r.legend = legend;
    r.title = title;
    return exports.exportFigure(QStringLiteral("heatmap"), r);
  }
};

inline QString ghostscript() {
  return QStandardPaths::findExecutable(QStringLiteral("gs"));
}

// The PDF's first page as pixels at dpi (null when Ghostscript fails).
inline QImage renderPdf(const QString& pdf, int dpi) {
  QTemporaryFile png(QDir::temp().filePath(QStringLiteral("kvs-render-XXXXXX.png")));
  if (!png.open()) return {};
  QProcess gs;
  gs.start(ghostscript(), {"-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=png16m",
                           QStringLiteral("-r%1").arg(dpi), "-sOutputFile=" + png.fileName(), pdf});
  if (!gs.waitForFinished(60000) || gs.exitCode() != 0) return {};
  return QImage(png.fileName()).convertToFormat(QImage::Format_RGB32);
}

// The PDF's text, as Ghostscript extracts it.
inline QString pdfText(const QString& pdf) {
  QProcess gs;
  gs.start(ghostscript(),
           {"-q", "-dNOPAUSE", "-dBATCH", "-sDEVICE=txtwrite", "-sOutputFile=-", pdf});
  gs.waitForFinished(60000);
  return QString::fromUtf8(gs.readAllStandardOutput());
}

}  // namespace kvs::ui::test
