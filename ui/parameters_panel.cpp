#include "parameters_panel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QSettings>
#include <QSpinBox>

namespace kvs::ui {
namespace {

QComboBox* combo(QWidget* parent, const char* name, const QStringList& items) {
  auto* box = new QComboBox(parent);
  box->setObjectName(name);
  box->addItems(items);
  return box;
}

QDoubleSpinBox* spin(QWidget* parent, const char* name, double lo, double hi, double step,
                     int decimals) {
  auto* box = new QDoubleSpinBox(parent);
  box->setObjectName(name);
  box->setRange(lo, hi);
  box->setSingleStep(step);
  box->setDecimals(decimals);
  box->setKeyboardTracking(false);  // one change per edit, not per keystroke
  return box;
}

// Combo indices follow the enums' order.
const QStringList kMethods = {"full", "streaming", "h2o", "cam", "kvmerger"};
const QStringList kSigmaModes = {"fixed", "mean-distance", "literal"};
const QStringList kLayouts = {"per-head", "shared"};
const QStringList kGqa = {"mean", "sum", "max"};

}  // namespace

ParametersPanel::ParametersPanel(QWidget* parent) : QWidget(parent) {
  method_ = combo(this, "method", kMethods);
  budget_ = spin(this, "budget", 0.01, 1.0, 0.05, 3);
  budgetTokens_ = new QSpinBox(this);
  budgetTokens_->setObjectName("budgetTokens");
  budgetTokens_->setRange(0, 1 << 20);
  budgetTokens_->setSpecialValueText(tr("use ratio"));
  budgetTokens_->setKeyboardTracking(false);
  exact_ = new QCheckBox(tr("exact budget (search eps per head)"), this);
  exact_->setObjectName("exactBudget");
  eps_ = spin(this, "eps", -1.0, 1.0001, 0.01, 4);
  sigma_ = spin(this, "sigma", 0.01, 1000, 0.5, 2);
  sigmaMode_ = combo(this, "sigmaMode", kSigmaModes);
  // -0.01 reads "paper default": the fraction the paper uses for the budget.
  recent_ = spin(this, "recent", -0.01, 1.0, 0.01, 2);
  recent_->setSpecialValueText(tr("paper default"));
  protected_ = spin(this, "protected", -0.01, 1.0, 0.01, 2);
  protected_->setSpecialValueText(tr("paper default"));
  layout_ = combo(this, "layout", kLayouts);
  gqa_ = combo(this, "gqaReduction", kGqa);
  decodeCompression_ = new QCheckBox(tr("compress while decoding"), this);
  decodeCompression_->setObjectName("decodeCompression");
  decodeChunk_ = new QSpinBox(this);
  decodeChunk_->setObjectName("decodeChunk");
  decodeChunk_->setRange(1, 4096);
  info_ = new QLabel(this);
  info_->setObjectName("layoutInfo");
  info_->setWordWrap(true);

  auto* form = new QFormLayout(this);
  form->addRow(tr("&Method"), method_);
  form->addRow(tr("&Budget ratio"), budget_);
  form->addRow(tr("Budget &slots"), budgetTokens_);
  form->addRow(QString(), exact_);
  form->addRow(tr("&eps"), eps_);
  form->addRow(tr("S&igma"), sigma_);
  form->addRow(tr("Sigma mode"), sigmaMode_);
  form->addRow(tr("&Recent"), recent_);
  form->addRow(tr("&Protected"), protected_);
  form->addRow(tr("&Layout"), layout_);
  form->addRow(tr("GQA reduction"), gqa_);
  form->addRow(QString(), decodeCompression_);
  form->addRow(tr("Decode chunk"), decodeChunk_);
  form->addRow(info_);

  setParams(defaults());
  for (auto* box : {method_, sigmaMode_, layout_, gqa_}) {
    connect(box, &QComboBox::currentIndexChanged, this, &ParametersPanel::changed);
  }
  for (auto* box : {budget_, eps_, sigma_, recent_, protected_}) {
    connect(box, &QDoubleSpinBox::valueChanged, this, &ParametersPanel::changed);
  }
  for (auto* box : {budgetTokens_, decodeChunk_}) {
    connect(box, &QSpinBox::valueChanged, this, &ParametersPanel::changed);
  }
  for (auto* box : {exact_, decodeCompression_}) {
    connect(box, &QCheckBox::toggled, this, &ParametersPanel::changed);
  }
}

CompressionParams ParametersPanel::defaults() {
  CompressionParams p;
  p.method = Method::kKVMerger;
  p.budget = 0.5;
  p.exactBudget = false;
  return p;
}

CompressionParams ParametersPanel::params() const {
  CompressionParams p;
  p.method = static_cast<Method>(method_->currentIndex());
  p.budget = budget_->value();
  p.budgetTokens = budgetTokens_->value();
  p.exactBudget = exact_->isChecked();
  p.eps = eps_->value();
  p.sigma = sigma_->value();
  p.sigmaMode = static_cast<SigmaMode>(sigmaMode_->currentIndex());
  p.recentRatio = recent_->value() < 0 ? -1 : recent_->value();
  p.protectedRatio = protected_->value() < 0 ? -1 : protected_->value();
  p.layout = static_cast<MergeLayout>(layout_->currentIndex());
  p.gqaReduction = static_cast<GqaReduction>(gqa_->currentIndex());
  p.decodeCompression = decodeCompression_->isChecked();
  p.decodeChunk = decodeChunk_->value();
  return p;
}

void ParametersPanel::setParams(const CompressionParams& p) {
  updating_ = true;
  method_->setCurrentIndex(static_cast<int>(p.method));
  budget_->setValue(p.budget);
  budgetTokens_->setValue(p.budgetTokens);
  exact_->setChecked(p.exactBudget);
  eps_->setValue(p.eps);
  sigma_->setValue(p.sigma);
  sigmaMode_->setCurrentIndex(static_cast<int>(p.sigmaMode));
  recent_->setValue(p.recentRatio < 0 ? -0.01 : p.recentRatio);
  protected_->setValue(p.protectedRatio < 0 ? -0.01 : p.protectedRatio);
  layout_->setCurrentIndex(static_cast<int>(p.layout));
  gqa_->setCurrentIndex(static_cast<int>(p.gqaReduction));
  decodeCompression_->setChecked(p.decodeCompression);
  decodeChunk_->setValue(p.decodeChunk);
  updating_ = false;
  updateEnabled();
}

void ParametersPanel::changed() {
  updateEnabled();
  if (!updating_) emit paramsChanged(params());
}

void ParametersPanel::updateEnabled() {
  const auto m = static_cast<Method>(method_->currentIndex());
  const bool merger = m == Method::kKVMerger;
  const bool compresses = m != Method::kFull;
  budget_->setEnabled(compresses && budgetTokens_->value() == 0);
  budgetTokens_->setEnabled(compresses);
  exact_->setEnabled(merger);
  eps_->setEnabled(merger && !exact_->isChecked());  // an exact budget searches eps itself
  sigma_->setEnabled(merger && sigmaMode_->currentIndex() == 0);
  sigmaMode_->setEnabled(merger);
  recent_->setEnabled(compresses && m != Method::kStreaming);
  protected_->setEnabled(compresses && m != Method::kStreaming);
  layout_->setEnabled(merger);
  gqa_->setEnabled(compresses);
  decodeCompression_->setEnabled(compresses);
  decodeChunk_->setEnabled(compresses && decodeCompression_->isChecked());
}

void ParametersPanel::showLayoutInfo(const QString& text) {
  info_->setText(text);
}

void ParametersPanel::saveSettings(QSettings& s) const {
  const CompressionParams p = params();
  s.setValue("params/method", method_->currentText());
  s.setValue("params/budget", p.budget);
  s.setValue("params/budgetTokens", p.budgetTokens);
  s.setValue("params/exact", p.exactBudget);
  s.setValue("params/eps", p.eps);
  s.setValue("params/sigma", p.sigma);
  s.setValue("params/sigmaMode", sigmaMode_->currentText());
  s.setValue("params/recent", p.recentRatio);
  s.setValue("params/protected", p.protectedRatio);
  s.setValue("params/layout", layout_->currentText());
  s.setValue("params/gqa", gqa_->currentText());
  s.setValue("params/decodeCompression", p.decodeCompression);
  s.setValue("params/decodeChunk", p.decodeChunk);
}

void ParametersPanel::restoreSettings(const QSettings& s) {
  CompressionParams p = defaults();
  auto index = [&](const char* key, const QStringList& names, int fallback) {
    const int i = names.indexOf(s.value(key).toString());
    return i >= 0 ? i : fallback;
  };
  p.method = static_cast<Method>(index("params/method", kMethods, int(p.method)));
  p.budget = s.value("params/budget", p.budget).toDouble();
  p.budgetTokens = s.value("params/budgetTokens", p.budgetTokens).toInt();
  p.exactBudget = s.value("params/exact", p.exactBudget).toBool();
  p.eps = s.value("params/eps", p.eps).toDouble();
  p.sigma = s.value("params/sigma", p.sigma).toDouble();
  p.sigmaMode = static_cast<SigmaMode>(index("params/sigmaMode", kSigmaModes, 0));
  p.recentRatio = s.value("params/recent", p.recentRatio).toDouble();
  p.protectedRatio = s.value("params/protected", p.protectedRatio).toDouble();
  p.layout = static_cast<MergeLayout>(index("params/layout", kLayouts, 0));
  p.gqaReduction = static_cast<GqaReduction>(index("params/gqa", kGqa, 0));
  p.decodeCompression = s.value("params/decodeCompression", false).toBool();
  p.decodeChunk = s.value("params/decodeChunk", p.decodeChunk).toInt();
  setParams(p);
}

}  // namespace kvs::ui
