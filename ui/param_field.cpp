#include "param_field.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>
#include <algorithm>
#include <cmath>
#include <limits>

namespace kvs::ui {
namespace {

// Spin boxes cannot show 1.8e308; a bound that large is "no bound" in the spec.
constexpr double kShownMax = 1e6;

int decimalsFor(const ParamSpec& spec) {
  return spec.hi - spec.lo <= 2.5 ? (spec.lo < 0 ? 4 : 3) : 2;
}

// The value below lo that stands for "unset" (unsetBelowLo): one step below.
double unsetValue(const ParamSpec& spec) {
  return spec.kind == ParamKind::kWhole ? spec.lo - 1 : spec.lo - 0.01;
}

}  // namespace

QString fieldObjectName(const ParamSpec& spec) {
  const bool inverted = spec.kind == ParamKind::kSwitch && !spec.switchValue;
  const std::string& from = inverted ? spec.key : spec.flag;
  QString name;
  bool upper = false;
  for (char c : from) {
    if (c == '-' || c == '_') {
      upper = true;
      continue;
    }
    name += upper ? QChar(c).toUpper() : QChar(c);
    upper = false;
  }
  return name;
}

QWidget* makeParamField(const ParamSpec& spec, QWidget* parent,
                        const std::function<void()>& onChange) {
  QWidget* field = nullptr;
  switch (spec.kind) {
    case ParamKind::kReal: {
      auto* box = new QDoubleSpinBox(parent);
      box->setDecimals(decimalsFor(spec));
      box->setRange(spec.unsetBelowLo ? unsetValue(spec) : spec.lo + (spec.loOpen ? 0.01 : 0),
                    std::min(spec.hi, kShownMax));
      box->setSingleStep(spec.hi - spec.lo <= 2.5 ? 0.01 : 0.5);
      if (spec.unsetBelowLo) box->setSpecialValueText(QString::fromStdString(spec.unsetLabel));
      box->setKeyboardTracking(false);  // one change per edit, not per keystroke
      QObject::connect(box, &QDoubleSpinBox::valueChanged, parent, [onChange] { onChange(); });
      field = box;
      break;
    }
    case ParamKind::kWhole: {
      auto* box = new QSpinBox(parent);
      box->setRange(spec.unsetBelowLo ? static_cast<int>(unsetValue(spec)) : int(spec.lo),
                    static_cast<int>(std::min(spec.hi, double(std::numeric_limits<int>::max()))));
      if (spec.unsetBelowLo) box->setSpecialValueText(QString::fromStdString(spec.unsetLabel));
      box->setKeyboardTracking(false);
      QObject::connect(box, &QSpinBox::valueChanged, parent, [onChange] { onChange(); });
      field = box;
      break;
    }
    case ParamKind::kSwitch: {
      auto* box = new QCheckBox(QString::fromStdString(spec.label), parent);
      QObject::connect(box, &QCheckBox::toggled, parent, [onChange] { onChange(); });
      field = box;
      break;
    }
    case ParamKind::kChoice: {
      auto* box = new QComboBox(parent);
      for (const std::string& c : spec.choices) box->addItem(QString::fromStdString(c));
      QObject::connect(box, &QComboBox::currentIndexChanged, parent, [onChange] { onChange(); });
      field = box;
      break;
    }
    case ParamKind::kWholeList:
    case ParamKind::kSeed: {
      auto* edit = new QLineEdit(parent);
      edit->setPlaceholderText(spec.kind == ParamKind::kSeed ? "0"
                                                             : QObject::tr("none, or 0,1,31"));
      QObject::connect(edit, &QLineEdit::editingFinished, parent, [onChange] { onChange(); });
      field = edit;
      break;
    }
  }
  field->setObjectName(fieldObjectName(spec));
  field->setToolTip(QString::fromStdString(spec.help));
  return field;
}

nlohmann::json fieldValue(const ParamSpec& spec, const QWidget* field) {
  switch (spec.kind) {
    case ParamKind::kReal: {
      const double v = static_cast<const QDoubleSpinBox*>(field)->value();
      return spec.unsetBelowLo && v < spec.lo ? -1.0 : v;
    }
    case ParamKind::kWhole: {
      const int v = static_cast<const QSpinBox*>(field)->value();
      return spec.unsetBelowLo && v < spec.lo ? static_cast<int>(spec.lo) - 1 : v;
    }
    case ParamKind::kSwitch:
      return static_cast<const QCheckBox*>(field)->isChecked();
    case ParamKind::kChoice:
      return static_cast<const QComboBox*>(field)->currentText().toStdString();
    case ParamKind::kWholeList:
    case ParamKind::kSeed: {
      const std::string text = static_cast<const QLineEdit*>(field)->text().trimmed().toStdString();
      if (text.empty()) {
        return spec.kind == ParamKind::kSeed ? nlohmann::json(0) : nlohmann::json::array();
      }
      try {
        return spec.parse(text);
      } catch (const std::exception&) {
        return nullptr;  // not a value yet: the panel keeps the last good one
      }
    }
  }
  return nullptr;
}

void setFieldValue(const ParamSpec& spec, QWidget* field, const nlohmann::json& value) {
  switch (spec.kind) {
    case ParamKind::kReal: {
      const double v = value.get<double>();
      static_cast<QDoubleSpinBox*>(field)->setValue(
          spec.unsetBelowLo && v < spec.lo ? unsetValue(spec) : v);
      break;
    }
    case ParamKind::kWhole: {
      const int v = value.get<int>();
      static_cast<QSpinBox*>(field)->setValue(
          spec.unsetBelowLo && v < spec.lo ? static_cast<int>(unsetValue(spec)) : v);
      break;
    }
    case ParamKind::kSwitch:
      static_cast<QCheckBox*>(field)->setChecked(value.get<bool>());
      break;
    case ParamKind::kChoice:
      static_cast<QComboBox*>(field)->setCurrentText(
          QString::fromStdString(value.get<std::string>()));
      break;
    case ParamKind::kWholeList: {
      QStringList items;
      for (const auto& v : value) items << QString::number(v.get<int>());
      static_cast<QLineEdit*>(field)->setText(items.join(','));
      break;
    }
    case ParamKind::kSeed:
      static_cast<QLineEdit*>(field)->setText(QString::number(value.get<uint64_t>()));
      break;
  }
}

}  // namespace kvs::ui
