#pragma once
// PaperStyleEditor: the paper-style fields of the export dialog (a checkable group: unchecked,
// figures look as on screen).

#include <QGroupBox>

#include "paper_style.h"

class QComboBox;
class QDoubleSpinBox;
class QFontComboBox;
class QLineEdit;
class QSpinBox;

namespace kvs::ui {

class PaperStyleEditor : public QGroupBox {
  Q_OBJECT

 public:
  explicit PaperStyleEditor(QWidget* parent = nullptr);
  PaperStyle style() const;
  void setStyle(const PaperStyle& style);

 private:
  QFontComboBox* font_;
  QSpinBox* tickPt_;
  QSpinBox* labelPt_;
  QSpinBox* titlePt_;
  QComboBox* colourMap_;
  QLineEdit* colourBarLabel_;
  QDoubleSpinBox* lineWidth_;
};

}  // namespace kvs::ui
