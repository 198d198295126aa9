#pragma once
// RecordDialog: where the next run is recorded and what the file holds (File > Record to
// HDF5...), the GUI's form of `kvstudio-cli generate --record` and its --record-* flags. The
// choices persist in QSettings ("record/..."); an existing file is overwritten only after the
// user said so.

#include "io/recording_options.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QSettings;
class QSpinBox;

namespace kvs::ui {

class RecordDialog : public QDialog {
  Q_OBJECT

 public:
  explicit RecordDialog(QWidget* parent = nullptr);

  kvs::RecordingOptions options() const;
  // The last choices (path included), as saved by accept().
  static kvs::RecordingOptions savedOptions(const QSettings& settings);

  void accept() override;

 private:
  void browse();

  QLineEdit* path_;
  QComboBox* dtype_;
  QCheckBox* keysPrerope_;
  QCheckBox* values_;
  QCheckBox* attention_;
  QSpinBox* deflate_;
  bool overwrite_ = false;  // the user agreed to replace the existing file
};

// Asks in the GUI thread whether an existing recording may be replaced; true when the path is
// free or the user said yes.
bool confirmOverwrite(QWidget* parent, const QString& path);

}  // namespace kvs::ui
