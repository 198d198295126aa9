#pragma once
// ExportDialog: where and how to write a figure (format from the file name, size, DPI) and its
// paper style (kept in QSettings when accepted).

#include <QDialog>

#include "plot_exporter.h"

class QComboBox;
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

  QLineEdit* path_;
  QComboBox* format_;
  QSpinBox* width_;
  QSpinBox* height_;
  QSpinBox* dpi_;
  PaperStyleEditor* style_;
};

}  // namespace kvs::ui
