#include "eval_results.h"

#include "compress/compression_method.h"
#include "eval/eval_h5.h"
#include "eval/needle_records.h"
#include "util/error.h"

#include <QFile>
#include <algorithm>
#include <numeric>

namespace kvs::ui {
namespace {

// CSV fields: settings and task names hold no commas today, but a quoted field costs nothing.
QString field(const std::string& text) {
  QString s = QString::fromStdString(text);
  if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
  return '"' + s.replace('"', QStringLiteral("\"\"")) + '"';
}

QString number(double v) {
  return QString::number(v, 'g', 8);
}

}  // namespace

std::vector<PerplexityCurveData> perplexityCurvesOf(const nlohmann::json& out) {
  require(out.is_object() && out.contains("curves") && out.at("curves").is_array(),
          "the perplexity results have no \"curves\" list; give the JSON that `kvstudio-cli "
          "eval perplexity --out` writes");
  std::vector<PerplexityCurveData> curves;
  for (const nlohmann::json& c : out.at("curves")) {
    PerplexityCurveData d;
    d.setting = QString::fromStdString(c.value("setting", ""));
    d.params = c.value("params", nlohmann::json::object());
    // The CLI writes cache_size; an HDF5 group's attribute is named budget.
    d.cacheSize = c.value("cache_size", c.value("budget", 0));
    d.firstPosition = c.value("first_position", 0);
    d.nll = c.value("nll", std::vector<double>{});
    const double sum = std::accumulate(d.nll.begin(), d.nll.end(), 0.0);
    d.meanNll = c.value("mean_nll", d.nll.empty() ? 0.0 : sum / double(d.nll.size()));
    curves.push_back(std::move(d));
  }
  // The CLI's mean_nll_common when the file has it; else the same from the curve: every curve
  // runs to the text's end, and all of them cover the positions from the latest start on.
  int common = 0;
  for (const auto& d : curves) common = std::max(common, d.firstPosition);
  const nlohmann::json& given = out.at("curves");
  for (size_t i = 0; i < curves.size(); ++i) {
    PerplexityCurveData& d = curves[i];
    double sum = 0;
    size_t n = 0;
    for (size_t p = size_t(std::max(0, common - d.firstPosition)); p < d.nll.size(); ++p, ++n) {
      sum += d.nll[p];
    }
    d.meanNllCommon = given[i].value("mean_nll_common", n > 0 ? sum / double(n) : d.meanNll);
  }
  return curves;
}

EvalData evalDataOf(const QString& kind, const QString& model,
                    std::vector<nlohmann::json> records) {
  EvalData d;
  d.kind = kind;
  d.model = model;
  d.records = std::move(records);
  if (kind == "longbench") {
    d.table = eval::scoreRecords(d.records);
  } else if (kind == "needle") {
    d.needleRun = eval::needleRunOfRecords(d.records);
    d.needleGrid = eval::needleGrid(d.needleRun, d.records);
  } else if (kind == "perplexity") {
    require(d.records.size() == 1, "perplexity results hold one JSON object");
    d.tokens = d.records.front().value("tokens", 0);
    d.curves = perplexityCurvesOf(d.records.front());
    for (const auto& c : d.curves) d.commonFrom = std::max(d.commonFrom, c.firstPosition);
  } else {
    throw KvsError("unknown kind of results \"" + kind.toStdString() + "\"");
  }
  return d;
}

EvalData loadEvalFile(const QString& path) {
  eval::EvalResults r = eval::readEvalResults(QFile::encodeName(path).toStdString());
  EvalData d = evalDataOf(QString::fromStdString(r.kind), QString::fromStdString(r.model),
                          std::move(r.records));
  d.path = path;
  return d;
}

QString longBenchCsv(const std::vector<eval::TaskSettingScore>& table) {
  QString out = QStringLiteral("task,setting,samples,score\n");
  for (const auto& t : table) {
    out += field(t.task) + ',' + field(t.setting) + ',' + QString::number(t.samples) + ',' +
           QString::number(t.score, 'f', 2) + '\n';
  }
  return out;
}

QString needleCsv(const std::vector<eval::NeedleCell>& grid) {
  QString out =
      QStringLiteral("setting,depth,length,samples,contains_rate,mean_nll,mean_first_rank\n");
  for (const auto& c : grid) {
    out += field(c.setting) + ',' + number(c.depth) + ',' + QString::number(c.length) + ',' +
           QString::number(c.samples) + ',' + number(c.containsRate) + ',' + number(c.meanNll) +
           ',' + number(c.meanFirstRank) + '\n';
  }
  return out;
}

QString perplexityCsv(const std::vector<PerplexityCurveData>& curves) {
  // The CLI's --csv columns.
  QString out = QStringLiteral("setting,cache_size,position,nll\n");
  for (const auto& c : curves) {
    for (size_t i = 0; i < c.nll.size(); ++i) {
      out += field(c.setting.toStdString()) + ',' + QString::number(c.cacheSize) + ',' +
             QString::number(c.firstPosition + qint64(i)) + ',' +
             QString::number(c.nll[i], 'f', 6) + '\n';
    }
  }
  return out;
}

std::vector<const nlohmann::json*> samplesOf(const std::vector<nlohmann::json>& records,
                                             const std::string& task,
                                             const nlohmann::json& params) {
  std::vector<const nlohmann::json*> out;
  for (const nlohmann::json& r : records) {
    if (r.value("task", "") == task && r.contains("params") && r.at("params") == params) {
      out.push_back(&r);
    }
  }
  return out;
}

}  // namespace kvs::ui
