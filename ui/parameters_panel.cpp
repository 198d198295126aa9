#include "parameters_panel.h"

#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QScrollArea>
#include <QSettings>
#include <QStyle>
#include <QVBoxLayout>
#include <algorithm>

#include "compress/compression_method.h"
#include "param_field.h"
#include "util/error.h"

namespace kvs::ui {

ParametersPanel::ParametersPanel(QWidget* parent) : QWidget(parent) {
  // The rows scroll: with a method's every parameter shown the form can outgrow a laptop screen.
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* inner = new QWidget(scroll);
  scroll->setWidget(inner);
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  outer->addWidget(scroll);

  method_ = new QComboBox(inner);
  method_->setObjectName("method");
  for (const CompressionMethod* m : allMethods()) {
    method_->addItem(QString::fromStdString(m->name()));
    method_->setItemData(method_->count() - 1,
                         QString::fromStdString(m->title() + ": " + m->summary()), Qt::ToolTipRole);
  }
  form_ = new QFormLayout(inner);
  form_->addRow(tr("&Method"), method_);
  // The budget's rows, the method's own, then how attention is reduced and decode-time
  // compression, which most methods share: a method's own settings stay near the top.
  const auto last = [](const ParamSpec& s) {
    return s.key == "gqa_reduction" || s.key == "decode_compression" || s.key == "decode_chunk";
  };
  for (bool lastRows : {false, true}) {
    for (const ParamSpec& spec : allParams()) {
      if (last(spec) != lastRows) continue;
      QWidget* field = makeParamField(spec, inner, [this] { changed(); });
      const bool box = spec.kind == ParamKind::kSwitch;  // a check box carries its own label
      form_->addRow(box ? QString() : QString::fromStdString(spec.label), field);
      fields_.push_back({&spec, field});
    }
  }
  // Below the rows, outside the form: a word-wrapped label in a QFormLayout whose rows are
  // hidden corrupts Qt 6.4's layout memory (valgrind), and the note should not scroll away.
  info_ = new QLabel(this);
  info_->setObjectName("layoutInfo");
  info_->setWordWrap(true);
  info_->setContentsMargins(8, 2, 8, 2);  // the scroll area has no frame; the form's indent
  outer->addWidget(info_);

  setParams(defaults());
  connect(method_, &QComboBox::currentIndexChanged, this, &ParametersPanel::changed);
}

CompressionParams ParametersPanel::defaults() {
  // The core's defaults, as the CLI's (an exact budget: 0.3 keeps 30% of the slots); only the
  // method differs, KVMerger, whose merging sets the app is for.
  CompressionParams p;
  p.method = "kvmerger";
  return p;
}

CompressionParams ParametersPanel::params() const {
  CompressionParams p = shown_;
  p.method = method_->currentText().toStdString();
  for (const Field& f : fields_) {
    const nlohmann::json value = fieldValue(*f.spec, f.widget);
    if (!value.is_null() && f.spec->accepts(value)) f.spec->set(p, value);
  }
  return p;
}

void ParametersPanel::setParams(const CompressionParams& p) {
  updating_ = true;
  shown_ = p;
  method_->setCurrentText(QString::fromStdString(p.method));
  for (const Field& f : fields_) setFieldValue(*f.spec, f.widget, f.spec->get(p));
  updating_ = false;
  updateEnabled();
}

void ParametersPanel::changed() {
  if (updating_) return;
  shown_ = params();
  updateEnabled();
  Q_EMIT paramsChanged(shown_);
}

void ParametersPanel::updateEnabled() {
  const CompressionParams p = params();
  const CompressionMethod& m = methodNamed(p.method);
  const auto keys = m.parameterKeys();
  for (const Field& f : fields_) {
    const bool listed = std::find(keys.begin(), keys.end(), f.spec->key) != keys.end();
    // Rows of other methods are hidden; a listed one that has no effect now (eps with an exact
    // budget, the ratio under absolute slots) stays in view, disabled, the reason in its tip.
    form_->setRowVisible(f.widget, listed);
    const auto ignored = m.ignores(f.spec->key, p);
    f.widget->setEnabled(!ignored);
    f.widget->setToolTip(QString::fromStdString(
        f.spec->help + (ignored && listed ? "\nNo effect now: " + *ignored : std::string())));
  }
}

QWidget* ParametersPanel::form() const {
  return method_->parentWidget();
}

QSize ParametersPanel::sizeHint() const {
  // The scroll bar's width too, so that a form taller than the dock does not cover its fields.
  return form()->sizeHint() +
         QSize(style()->pixelMetric(QStyle::PM_ScrollBarExtent), info_->sizeHint().height());
}

QSize ParametersPanel::minimumSizeHint() const {
  const QSize full = sizeHint();
  return {full.width(), std::min(full.height(), 8 * method_->sizeHint().height())};
}

void ParametersPanel::showLayoutInfo(const QString& text) {
  info_->setText(text);
}

void ParametersPanel::saveSettings(QSettings& s) const {
  s.setValue("params/json", QString::fromStdString(toJson(params()).dump()));
}

void ParametersPanel::restoreSettings(const QSettings& s) {
  const std::string text = s.value("params/json").toString().toStdString();
  CompressionParams p = defaults();
  try {
    if (!text.empty()) p = paramsFromJson(nlohmann::json::parse(text));
  } catch (const std::exception&) {
    // Settings of another version or edited by hand: start from the defaults.
  }
  setParams(p);
}

}  // namespace kvs::ui
