#pragma once
// ParametersPanel: every compression setting of kvs::CompressionParams the GUI offers. Each
// change is reported at once (paramsChanged); the controller decides what to recompute.

#include "compress/compression_params.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QSettings;
class QSpinBox;

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
  void saveSettings(QSettings& settings) const;
  void restoreSettings(const QSettings& settings);
  // The threshold the layout used (searched per head for exact budgets), shown beside eps.
  void showLayoutInfo(const QString& text);

 signals:
  void paramsChanged(const kvs::CompressionParams& params);

 private:
  void updateEnabled();
  void changed();

  QComboBox* method_;
  QDoubleSpinBox* budget_;
  QSpinBox* budgetTokens_;
  QCheckBox* exact_;
  QDoubleSpinBox* eps_;
  QDoubleSpinBox* sigma_;
  QComboBox* sigmaMode_;
  QDoubleSpinBox* recent_;
  QDoubleSpinBox* protected_;
  QComboBox* layout_;
  QComboBox* gqa_;
  QCheckBox* decodeCompression_;
  QSpinBox* decodeChunk_;
  QLabel* info_;
  bool updating_ = false;
};

}  // namespace kvs::ui
