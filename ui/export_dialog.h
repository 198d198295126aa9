#pragma once
// ExportDialog: where and how to write a figure: format (from the file name), width x height in
// inches, cm or pixels, the PNG's DPI (what the size comes to is shown below it), a title and a
// legend of the marks, and its paper style (kept in QSettings when accepted).

#include <QDialog>

#include "plot_exporter.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace kvs::ui {
class PaperStyleEditor;
}

namespace kvs::ui {

class ExportDialog : public QDialog {
  Q_OBJECT

 public:
  ExportDialog(const QString& suggestedPath, QWidget* parent = nullptr);
  ExportRequest request() const;
  void setRequest(const ExportRequest& request);

 private:
  void browse();
  void formatChosen(int index);
  void unitChosen(int index);
  void showSize();

  QLineEdit* path_;
  QComboBox* format_;
  QComboBox* unit_;
  QDoubleSpinBox* width_;
  QDoubleSpinBox* height_;
  QSpinBox* dpi_;
  QLabel* size_;  // what the request comes to: "1050 x 1050 pixels, 3.50 x 3.50 in"
  QCheckBox* title_;
  QCheckBox* legend_;
  PaperStyleEditor* style_;
  ExportRequest::Unit shownUnit_ = ExportRequest::Unit::kInches;
};

}  // namespace kvs::ui
