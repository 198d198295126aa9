#include "record_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

namespace kvs::ui {

RecordDialog::RecordDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Record to HDF5"));
  const RecordingOptions saved = savedOptions(QSettings());
  path_ = new QLineEdit(QString::fromStdString(saved.path), this);
  path_->setObjectName("recordPath");
  auto* browse = new QPushButton(tr("Browse..."), this);
  connect(browse, &QPushButton::clicked, this, &RecordDialog::browse);
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_);
  pathRow->addWidget(browse);
  dtype_ = new QComboBox(this);
  dtype_->setObjectName("recordDtype");
  dtype_->addItems({"float32", "float16"});
  dtype_->setCurrentText(toString(saved.storage));
  dtype_->setToolTip(tr("float16 halves the file; float32 keeps the states exactly"));
  keysPrerope_ = new QCheckBox(tr("Keys before RoPE"), this);
  keysPrerope_->setChecked(saved.keysPrerope);
  values_ = new QCheckBox(tr("Values"), this);
  values_->setChecked(saved.values);
  attention_ =
      new QCheckBox(tr("Prompt attention (H2O scores, KVMerger's protected tokens)"), this);
  attention_->setChecked(saved.attention);
  deflate_ = new QSpinBox(this);
  deflate_->setRange(0, 9);
  deflate_->setValue(saved.deflateLevel);
  deflate_->setToolTip(tr("Shuffle + deflate level; 0 = none, the fastest"));

  auto* form = new QFormLayout(this);
  form->addRow(tr("File:"), pathRow);
  form->addRow(tr("States as:"), dtype_);
  form->addRow(tr("Also record:"), keysPrerope_);
  form->addRow(QString(), values_);
  form->addRow(QString(), attention_);
  form->addRow(tr("Compression level:"), deflate_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Record next run"));
  connect(buttons, &QDialogButtonBox::accepted, this, &RecordDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &RecordDialog::reject);
  form->addRow(buttons);
}

RecordingOptions RecordDialog::savedOptions(const QSettings& settings) {
  RecordingOptions o;
  o.path = settings.value("record/path", QDir::home().filePath("kvstudio-recording.h5"))
               .toString()
               .toStdString();
  o.storage = settings.value("record/dtype", "float32").toString() == "float16"
                  ? StateStorage::kFloat16
                  : StateStorage::kFloat32;
  o.keysPrerope = settings.value("record/keysPrerope", false).toBool();
  o.values = settings.value("record/values", false).toBool();
  o.attention = settings.value("record/attention", true).toBool();
  o.deflateLevel = settings.value("record/deflate", 0).toInt();
  return o;
}

RecordingOptions RecordDialog::options() const {
  RecordingOptions o;
  o.path = path_->text().trimmed().toStdString();
  o.overwrite = overwrite_;
  o.storage = dtype_->currentText() == "float16" ? StateStorage::kFloat16 : StateStorage::kFloat32;
  o.keysPrerope = keysPrerope_->isChecked();
  o.values = values_->isChecked();
  o.attention = attention_->isChecked();
  o.deflateLevel = deflate_->value();
  return o;
}

void RecordDialog::browse() {
  // The overwrite question is ours (accept), so it is asked once whichever way the path came.
  const QString path = QFileDialog::getSaveFileName(this, tr("Record to"), path_->text(),
                                                    tr("HDF5 recordings (*.h5);;All files (*)"),
                                                    nullptr, QFileDialog::DontConfirmOverwrite);
  if (!path.isEmpty()) path_->setText(path);
}

void RecordDialog::accept() {
  const QString path = path_->text().trimmed();
  if (path.isEmpty()) {
    QMessageBox::warning(this, windowTitle(), tr("Choose a file to record to."));
    return;
  }
  if (!confirmOverwrite(this, path)) return;
  overwrite_ = QFileInfo::exists(path);
  QSettings settings;
  const RecordingOptions o = options();
  settings.setValue("record/path", path);
  settings.setValue("record/dtype", dtype_->currentText());
  settings.setValue("record/keysPrerope", o.keysPrerope);
  settings.setValue("record/values", o.values);
  settings.setValue("record/attention", o.attention);
  settings.setValue("record/deflate", o.deflateLevel);
  QDialog::accept();
}

bool confirmOverwrite(QWidget* parent, const QString& path) {
  if (!QFileInfo::exists(path)) return true;
  return QMessageBox::question(parent, QObject::tr("Record to HDF5"),
                               QObject::tr("%1 already exists. Replace it with the next run's "
                                           "recording?")
                                   .arg(path)) == QMessageBox::Yes;
}

}  // namespace kvs::ui
