#include "export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

#include "paper_style_editor.h"

namespace kvs::ui {
namespace {

const QStringList kSuffixes = {"png", "pdf", "svg"};  // ExportRequest::Format order

QSpinBox* spin(QWidget* parent, const char* name, int lo, int hi, int value) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(name);
  box->setRange(lo, hi);
  box->setValue(value);
  return box;
}

}  // namespace

ExportDialog::ExportDialog(const QString& suggestedPath, QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("Export figure"));
  path_ = new QLineEdit(suggestedPath, this);
  path_->setObjectName("exportPath");
  auto* browse = new QPushButton(tr("Browse..."), this);
  format_ = new QComboBox(this);
  format_->setObjectName("exportFormat");
  format_->addItems({tr("PNG (raster)"), tr("PDF (vector)"), tr("SVG (vector)")});
  format_->setCurrentIndex(static_cast<int>(formatForPath(suggestedPath)));
  width_ = spin(this, "exportWidth", 100, 20000, 1200);
  height_ = spin(this, "exportHeight", 100, 20000, 900);
  dpi_ = spin(this, "exportDpi", 50, 1200, 300);
  style_ = new PaperStyleEditor(this);
  style_->setStyle(PaperStyle::load(QSettings()));
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);

  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(browse);
  auto* form = new QFormLayout(this);
  form->addRow(tr("File"), pathRow);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Width"), width_);
  form->addRow(tr("Height"), height_);
  form->addRow(tr("DPI (PNG)"), dpi_);
  form->addRow(style_);
  form->addRow(buttons);
  connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
  connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::formatChosen);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    QSettings settings;  // the next export starts from this style
    style_->style().save(settings);
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

void ExportDialog::browse() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export figure"), path_->text(),
                                                    tr("Figures (*.png *.pdf *.svg)"));
  if (path.isEmpty()) return;
  path_->setText(path);
  format_->setCurrentIndex(static_cast<int>(formatForPath(path)));
}

void ExportDialog::formatChosen(int index) {
  const QFileInfo info(path_->text());
  path_->setText(info.dir().filePath(info.completeBaseName() + "." + kSuffixes.value(index)));
  dpi_->setEnabled(index == 0);
}

ExportRequest ExportDialog::request() const {
  ExportRequest r;
  r.path = path_->text();
  r.format = static_cast<ExportRequest::Format>(format_->currentIndex());
  r.width = width_->value();
  r.height = height_->value();
  r.dpi = dpi_->value();
  r.style = style_->style();
  return r;
}

void ExportDialog::setRequest(const ExportRequest& r) {
  path_->setText(r.path);
  format_->setCurrentIndex(static_cast<int>(r.format));
  width_->setValue(r.width);
  height_->setValue(r.height);
  dpi_->setValue(r.dpi);
  style_->setStyle(r.style);
}

}  // namespace kvs::ui
