#pragma once
// EvalRunForm: the Evaluation panel's Run page. The fields of `kvstudio-cli eval needle` (lengths,
// depths, haystack) and `eval longbench` (data folder, tasks, limit), the methods and budgets of
// both, the records file, Run / Stop, a progress bar and what the run is doing. The fields persist
// (QSettings, evaluation/...). The form builds the request; the panel sends it.

#include <QWidget>

#include "eval_types.h"

class QComboBox;
class QFormLayout;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace kvs::ui {

class EvalRunForm : public QWidget {
  Q_OBJECT

 public:
  explicit EvalRunForm(QWidget* parent = nullptr);

  // The request of the fields (without model, ticket and cancel flag); empty error when valid,
  // else what to fix, naming the field.
  EvalRunRequest request(QString* error) const;
  bool running() const { return running_; }
  void setRunning(bool running);
  void showStatus(const EvalRunStatus& status);
  void showMessage(const QString& text);
  void saveSettings() const;

  // The CLI's defaults: every method compared by default (the full cache first), and a budget
  // of 0.5 for the needle grid, 0.5 and 0.35 for LongBench.
  static QString defaultMethods();

 Q_SIGNALS:
  void startRequested();
  void stopRequested();

 private:
  void restoreSettings();
  void showKindFields();
  void chooseOut();
  void chooseFolder(QLineEdit* field, const QString& caption);
  void chooseFile(QLineEdit* field, const QString& caption);

  QFormLayout* form_;
  QComboBox* kind_;
  QLineEdit* lengths_;
  QLineEdit* depths_;
  QLineEdit* haystack_;
  QWidget* haystackRow_;
  QLineEdit* dataDir_;
  QWidget* dataRow_;
  QLineEdit* tasks_;
  QSpinBox* limit_;
  QLineEdit* methods_;
  QLineEdit* needleBudgets_;  // the CLI's defaults differ: 0.5 | 0.5,0.35
  QLineEdit* longBenchBudgets_;
  QLineEdit* out_;
  QPushButton* start_;
  QPushButton* stop_;
  QProgressBar* progress_;
  QLabel* status_;
  bool running_ = false;
};

}  // namespace kvs::ui
