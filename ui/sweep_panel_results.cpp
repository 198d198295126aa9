// SweepPanel (sweep_panel.h): what a finished sweep shows: the status, the curves, the clicked
// point's detail, a sweep opened from a file, and the figure's export.

#include "session/sweep_curves.h"
#include "sweep/merged_curves.h"
#include "util/error.h"

#include "sweep_panel.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTextEdit>
#include <fstream>
#include "qcustomplot_include.h"

namespace kvs::ui {
namespace {

QString bytesText(qint64 bytes) {
  return QLocale::c().toString(bytes);
}

}  // namespace

void SweepPanel::setStatus(const SweepStatus& s) {
  if (s.state == SweepStatus::State::kRunning) {
    running_ = true;
    progress_->setRange(0, std::max(1, s.total));
    progress_->setValue(s.done);
    const QString of = s.promptCount > 1
                           ? tr(" (prompt %1 of %2)").arg(s.prompt + 1).arg(s.promptCount)
                           : QString();
    status_->setText(
        tr("%1 of %2 variants%3, %4 s").arg(s.done).arg(s.total).arg(of).arg(s.seconds, 0, 'f', 1));
    return;
  }
  running_ = false;
  run_->setEnabled(true);
  stop_->setEnabled(false);
  progress_->setRange(0, std::max(1, s.total));
  progress_->setValue(s.state == SweepStatus::State::kDone ? s.total : s.done);
  if (s.state == SweepStatus::State::kFailed) {
    status_->setText(tr("failed: %1").arg(s.error));
    return;
  }
  if (s.state == SweepStatus::State::kStopped) {
    status_->setText(tr("stopped after %1 of %2 variants").arg(s.done).arg(s.total));
    return;
  }
  curves_ = s.curves;
  details_ = s.details;
  prompts_ = s.prompts;
  source_ = prompts_.isEmpty() ? tr("this prompt") : ran_.promptsFile;
  selected_ = -2;
  use_->setEnabled(false);
  detail_->clear();
  detailPrompt_->setRange(1, std::max(1, static_cast<int>(details_.size())));
  detailPrompt_->setEnabled(details_.size() > 1);
  status_->setText(prompts_.isEmpty()
                       ? tr("%1 variants in %2 s").arg(s.total).arg(s.seconds, 0, 'f', 1)
                       : tr("%1 variants over %2 prompts in %3 s")
                             .arg(s.total)
                             .arg(prompts_.size())
                             .arg(s.seconds, 0, 'f', 1));
  redraw();
}

void SweepPanel::redraw() {
  if (curves_.points.empty()) return;
  drawSweep(plot_, curves_, measure(), logY_->isChecked(), spread());
}

void SweepPanel::selectPoint(int index) {
  if (index < -1 || index >= static_cast<int>(curves_.points.size())) return;
  selected_ = index;
  showDetail();
  const int i = index + 1;  // a prompt's details start with the full cache
  const bool known = !details_.empty() && i < static_cast<int>(details_[0].size());
  use_->setEnabled(index >= 0 && known);
  // The kept prompt's merging sets under this setting, on the heatmap and overview (as a
  // Compare row's): only that prompt's prefill is kept, so only its sweep asks for them.
  if (known && prompts_.isEmpty()) Q_EMIT layoutRequested(details_[0][i].params);
}

void SweepPanel::showDetail() {
  if (selected_ < -1 || selected_ >= static_cast<int>(curves_.points.size())) return;
  const SweepPoint& p = selected_ < 0 ? curves_.reference : curves_.points[selected_];
  QString html = QStringLiteral("<b>%1</b>").arg(QString::fromStdString(p.method));
  if (!p.value.is_null()) {
    html += QStringLiteral(" at %1 = %2")
                .arg(QString::fromStdString(curves_.key), QString::fromStdString(p.value.dump()));
  }
  const QString over =
      curves_.prompts > 1 ? tr(" (mean of %1 prompts)").arg(curves_.prompts) : QString();
  html += QStringLiteral("<br>mean KL %1, top-1 %2, NLL %3%4")
              .arg(p.of(SweepMeasure::kMeanKl).mean, 0, 'g', 4)
              .arg(p.of(SweepMeasure::kTop1).mean, 0, 'f', 3)
              .arg(p.of(SweepMeasure::kNll).mean, 0, 'f', 4)
              .arg(over);
  const int prompt =
      std::clamp(detailPrompt_->value() - 1, 0, std::max(0, static_cast<int>(details_.size()) - 1));
  const int i = selected_ + 1;
  if (!details_.empty() && i < static_cast<int>(details_[prompt].size())) {
    const SweepVariantDetail& d = details_[prompt][i];
    if (prompt < prompts_.size()) {
      html += QStringLiteral("<hr><i>prompt %1:</i> %2")
                  .arg(prompt + 1)
                  .arg(prompts_[prompt].toHtmlEscaped());
      html +=
          QStringLiteral("<br>mean KL %1, top-1 %2 on this prompt")
              .arg(p.perPrompt.at(prompt)[static_cast<size_t>(SweepMeasure::kMeanKl)], 0, 'g', 4)
              .arg(p.perPrompt.at(prompt)[static_cast<size_t>(SweepMeasure::kTop1)], 0, 'f', 3);
    }
    html += QStringLiteral("<br>KV bytes %1 of %2 (%3% of the slots kept)")
                .arg(bytesText(d.kvBytes), bytesText(d.kvBytesFull))
                .arg(100 * d.achievedRatio, 0, 'f', 1);
    html += d.mergedSets == 0
                ? tr("<br>merging sets: none (no slot holds more than one token)")
                : tr("<br>merging sets: %1 over the layers and heads, holding %2 tokens; the "
                     "largest holds %3")
                      .arg(d.mergedSets)
                      .arg(d.mergedTokens)
                      .arg(d.largestSet);
    if (prompts_.isEmpty() && selected_ >= 0) html += tr(" (drawn on the heatmap)");
    html += QStringLiteral("<hr>") + d.text.toHtmlEscaped();
  } else {
    html += QStringLiteral("<br>KV bytes %1 (mean over %2 prompts; texts are in the JSON)")
                .arg(p.of(SweepMeasure::kKvBytes).mean, 0, 'f', 0)
                .arg(curves_.prompts);
  }
  detail_->setHtml(html);
}

QString SweepPanel::openJson(const QString& path) {
  QString also;
  try {
    std::ifstream in(QFile::encodeName(path).toStdString());
    require(in.good(), "cannot read " + path.toStdString());
    nlohmann::json json;
    try {
      json = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw KvsError(path.toStdString() + " is not JSON: " + e.what());
    }
    if (sweep::isMergedSweep(json)) {
      // The parameter chosen in the panel when the merged sweep swept it, else its first.
      const std::string key = parameter_->currentData().toString().toStdString();
      std::string parameter;
      for (const sweep::MergedSweepChoice& c : sweep::mergedSweepChoices(json)) {
        if (c.parameter == key) parameter = key;
        also += (also.isEmpty() ? "" : ", ") + QString::fromStdString(c.text);
      }
      curves_ = sweep::curvesFromMergedSweep(json, parameter);
    } else {
      curves_ = sweepCurvesFromJson(json);
    }
  } catch (const std::exception& e) {
    status_->setText(QString::fromStdString(e.what()));
    return QString::fromStdString(e.what());
  }
  details_.clear();
  prompts_.clear();
  source_ = QFileInfo(path).fileName();
  selected_ = -2;
  use_->setEnabled(false);
  detail_->clear();
  detailPrompt_->setRange(1, 1);
  detailPrompt_->setEnabled(false);
  QString text = tr("%1: %2 points over %3 prompts")
                     .arg(source_)
                     .arg(curves_.points.size())
                     .arg(curves_.prompts);
  if (also.contains(',')) {
    text += tr(" (its sweeps: %1; choose the parameter and open it again for another)").arg(also);
  }
  status_->setText(text);
  redraw();
  return {};
}

void SweepPanel::chooseFile() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open a sweep"), {},
      tr("Sweep JSON: compare --sweep --json, or a merged sweep's results.json (*.json);;All "
         "files (*)"));
  if (!path.isEmpty()) openJson(path);
}

QVector<ExportFigure> SweepPanel::exportFigures() const {
  return {{QStringLiteral("sweep"), tr("Export &sweep..."), plot_, QStringLiteral("exportSweep")}};
}

QString SweepPanel::csv() const {
  return sweepCsv(curves_);
}

QJsonObject SweepPanel::viewJson() const {
  QJsonObject view = sweepViewJson(curves_, measure(), logY_->isChecked(), spread());
  view["source"] = source_;
  if (details_.empty()) return view;  // opened from a file: its own JSON holds the settings
  // The run's exact settings: what the other parameters were, and how each prompt was decoded.
  view["base_parameters"] =
      QJsonDocument::fromJson(QByteArray::fromStdString(nlohmann::json(toJson(ran_.base)).dump()))
          .object();
  if (!prompts_.isEmpty()) {
    view["prompts_file"] = QFileInfo(ran_.promptsFile).absoluteFilePath();
    view["new_tokens"] = ran_.newTokens;
    view["decoding"] = QStringLiteral("greedy, every step (as compare)");
  }
  return view;
}

}  // namespace kvs::ui
