#pragma once
// ParametersPanel: the method and every compression parameter, built from the method registry
// (compress/compression_method.h): a row per parameter spec, shown for the methods that list it
// and enabled where it has an effect. Each change is reported at once (paramsChanged); the
// controller decides what to recompute.

#include <QWidget>
#include <vector>

#include "compress/compression_params.h"
#include "compress/param_spec.h"

class QComboBox;
class QFormLayout;
class QLabel;
class QSettings;

namespace kvs::ui {

class ParametersPanel : public QWidget {
  Q_OBJECT

 public:
  explicit ParametersPanel(QWidget* parent = nullptr);

  kvs::CompressionParams params() const;
  // Shows params without emitting paramsChanged.
  void setParams(const kvs::CompressionParams& params);
  // The GUI's default: KVMerger as the paper runs it (eps 0.75, approximate budget, 50%).
  static kvs::CompressionParams defaults();
  // As JSON under params/json (toJson / paramsFromJson); settings that no longer parse give the
  // defaults.
  void saveSettings(QSettings& settings) const;
  void restoreSettings(const QSettings& settings);
  // The threshold the layout used (searched per head for exact budgets), shown beside eps.
  void showLayoutInfo(const QString& text);
  // The whole form when there is room; at least the method and a few rows when there is not
  // (the rest scrolls).
  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 Q_SIGNALS:
  void paramsChanged(const kvs::CompressionParams& params);

 private:
  struct Field {
    const kvs::ParamSpec* spec;
    QWidget* widget;
  };
  void updateEnabled();
  void changed();

  QWidget* form() const;
  QComboBox* method_;
  QFormLayout* form_;
  std::vector<Field> fields_;
  QLabel* info_;
  kvs::CompressionParams shown_;  // the last params shown or read, for fields mid-edit
  bool updating_ = false;
};

}  // namespace kvs::ui
