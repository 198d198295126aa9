// kvstudio-plot: draws a sweep (the JSON of `kvstudio-cli compare --sweep ... --json`, or a
// merged Slurm sweep's DIR/merged/results.json) as the app's Sweep view draws it and writes it as
// the app exports a figure: PNG, PDF or SVG by the output's suffix, in the paper style, with the
// CSV of every point and the JSON sidecar beside it. `compare --plot` runs it (core has no Qt); it
// needs no display (offscreen platform).
//
// Usage: kvstudio-plot --input sweep.json --output figure.pdf [--measure mean_kl]
//        [--width 3.5 --height 2.6 (inches)] [--dpi 300] [--band] [--log-y]
//        [--parameter sigma --model PATH (a merged sweep's curves; default its first)]

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <cstdio>
#include <fstream>
#include "qcustomplot_include.h"

#include "kvs/version.h"
#include "plot_exporter.h"
#include "session/sweep_curves.h"
#include "sweep/merged_curves.h"
#include "sweep_plot.h"
#include "util/error.h"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "kvstudio-plot: error: %s\n", message.c_str());
  return 2;
}

// What the sidecar says about the run that measured the sweep, from compare's JSON.
QJsonObject runOf(const nlohmann::json& compare) {
  QJsonObject run;
  for (const char* key : {"app_version", "model", "dtype", "kv_dtype", "tokenizer"}) {
    if (compare.contains(key) && compare[key].is_string())
      run[key] = QString::fromStdString(compare[key].get<std::string>());
  }
  for (const char* key : {"parameters", "prompts", "name", "plan"}) {  // name, plan: merged
    if (compare.contains(key))
      run[key] = QJsonDocument::fromJson(
                     QByteArray::fromStdString(nlohmann::json{{"v", compare[key]}}.dump()))
                     .object()
                     .value("v");
  }
  return run;
}

double positive(const QString& text, const char* name) {
  bool ok = false;
  const double value = text.toDouble(&ok);
  kvs::require(ok && value > 0 && value <= 100,
               std::string("--") + name + " must be a number of inches in (0, 100], got '" +
                   text.toStdString() + "'");
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  // Headless unless told otherwise: the CLI runs this on servers without a display.
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("kvstudio-plot"));
  QApplication::setApplicationVersion(QString::fromUtf8(kvs::kVersion));
  QCommandLineParser parser;
  parser.setApplicationDescription(
      QStringLiteral("Writes the figure of a sweep (kvstudio-cli compare --sweep ... --json)"));
  parser.addHelpOption();
  parser.addVersionOption();
  const QCommandLineOption input(QStringLiteral("input"), QStringLiteral("compare's JSON"),
                                 QStringLiteral("file"));
  const QCommandLineOption output(QStringLiteral("output"),
                                  QStringLiteral("The figure: .png, .pdf or .svg"),
                                  QStringLiteral("file"));
  const QCommandLineOption measure(
      QStringLiteral("measure"),
      QStringLiteral("mean_kl (default), max_kl, top1_agreement, nll or kv_bytes"),
      QStringLiteral("key"), QStringLiteral("mean_kl"));
  const QCommandLineOption width(QStringLiteral("width"), QStringLiteral("Inches (default 3.5)"),
                                 QStringLiteral("in"), QStringLiteral("3.5"));
  const QCommandLineOption height(QStringLiteral("height"), QStringLiteral("Inches (default 2.6)"),
                                  QStringLiteral("in"), QStringLiteral("2.6"));
  const QCommandLineOption dpi(QStringLiteral("dpi"), QStringLiteral("PNG pixels per inch"),
                               QStringLiteral("n"), QStringLiteral("300"));
  const QCommandLineOption source(QStringLiteral("source"),
                                  QStringLiteral("What made the input, for the sidecar (default: "
                                                 "the input's path)"),
                                  QStringLiteral("text"));
  const QCommandLineOption logY(QStringLiteral("log-y"),
                                QStringLiteral("A logarithmic y axis (points at or below 0 left "
                                               "out)"));
  const QCommandLineOption band(QStringLiteral("band"),
                                QStringLiteral("A shaded min-max band over the prompts instead "
                                               "of +-std error bars"));
  const QCommandLineOption parameter(
      QStringLiteral("parameter"),
      QStringLiteral("A merged sweep's curves of this swept parameter (default: its first)"),
      QStringLiteral("key"));
  const QCommandLineOption model(
      QStringLiteral("model"),
      QStringLiteral("A merged sweep's curves of this model, as the plan names it (default: its "
                     "first)"),
      QStringLiteral("path"));
  parser.addOptions(
      {input, output, measure, width, height, dpi, source, logY, band, parameter, model});
  parser.process(app);
  try {
    kvs::require(parser.isSet(input) && parser.isSet(output),
                 "give --input SWEEP.json and --output FIGURE.pdf|svg|png");
    const std::string inputPath = parser.value(input).toStdString();
    std::ifstream in(inputPath);
    kvs::require(in.good(), "cannot read " + inputPath);
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw kvs::KvsError(inputPath + " is not JSON: " + e.what());
    }
    const kvs::SweepCurves curves = kvs::sweep::sweepCurvesFromAnyJson(
        json, parser.value(parameter).toStdString(), parser.value(model).toStdString());
    const kvs::ui::SweepSpread spread =
        parser.isSet(band) ? kvs::ui::SweepSpread::kMinMaxBand : kvs::ui::SweepSpread::kStdBars;
    const kvs::SweepMeasure shown = kvs::measureNamed(parser.value(measure).toStdString());

    QCustomPlot plot;
    plot.resize(800, 600);
    kvs::ui::drawSweep(&plot, curves, shown, parser.isSet(logY), spread);
    kvs::ui::ExportRequest request;
    request.path = parser.value(output);
    request.format = kvs::ui::formatForPath(request.path);
    request.unit = kvs::ui::ExportRequest::Unit::kInches;
    request.width = positive(parser.value(width), "width");
    request.height = positive(parser.value(height), "height");
    request.dpi = parser.value(dpi).toInt();
    request.legend = true;
    request.style.enabled = true;  // the paper style's defaults, as the export dialog offers
    if (const QString why = request.check(); !why.isEmpty()) return fail(why.toStdString());
    QJsonObject sidecar = runOf(json);
    sidecar["tool"] = QStringLiteral("kvstudio-plot");
    sidecar["input"] = parser.isSet(source) ? parser.value(source)
                                            : QFileInfo(parser.value(input)).absoluteFilePath();
    sidecar["panel"] = QStringLiteral("sweep");
    sidecar["view"] = kvs::ui::sweepViewJson(curves, shown, parser.isSet(logY), spread);
    const QString error = kvs::ui::exportPlot(&plot, request, kvs::ui::sweepCsv(curves), sidecar);
    if (!error.isEmpty()) return fail(error.toStdString());
    std::fprintf(stderr, "kvstudio-plot: wrote %s (with its .csv and .json)\n",
                 request.path.toLocal8Bit().constData());
    return 0;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
