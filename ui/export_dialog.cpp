#include "export_dialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>

#include "paper_style_editor.h"

namespace kvs::ui {
namespace {

const QStringList kSuffixes = {"png", "pdf", "svg"};  // ExportRequest::Format order

QDoubleSpinBox* length(QWidget* parent, const char* name) {
  auto* box = new QDoubleSpinBox(parent);
  box->setObjectName(name);
  box->setDecimals(2);
  return box;
}

// Limits and steps of a length in each unit (ExportRequest::Unit order): 0.5 to 100 inches.
void setUnit(QDoubleSpinBox* box, ExportRequest::Unit unit) {
  switch (unit) {
    case ExportRequest::Unit::kInches:
      box->setRange(0.5, 100);
      box->setSingleStep(0.25);
      box->setDecimals(2);
      break;
    case ExportRequest::Unit::kCm:
      box->setRange(1.27, 254);
      box->setSingleStep(0.5);
      box->setDecimals(2);
      break;
    case ExportRequest::Unit::kPixels:
      box->setRange(20, 60000);
      box->setSingleStep(50);
      box->setDecimals(0);
      break;
  }
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
  unit_ = new QComboBox(this);
  unit_->setObjectName("exportUnit");
  unit_->addItems({tr("inches"), tr("cm"), tr("pixels")});  // ExportRequest::Unit order
  width_ = length(this, "exportWidth");
  height_ = length(this, "exportHeight");
  dpi_ = new QSpinBox(this);
  dpi_->setObjectName("exportDpi");
  dpi_->setRange(50, 1200);
  size_ = new QLabel(this);
  size_->setObjectName("exportSize");
  title_ = new QCheckBox(tr("Title (the heatmap's: layer, head, source, method and budget)"), this);
  title_->setObjectName("exportTitle");
  legend_ =
      new QCheckBox(tr("Legend of the heatmap's marks (sets, pivots, protected, evicted)"), this);
  legend_->setObjectName("exportLegend");
  style_ = new PaperStyleEditor(this);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);

  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path_, 1);
  pathRow->addWidget(browse);
  auto* sizeRow = new QHBoxLayout;
  sizeRow->addWidget(width_, 1);
  sizeRow->addWidget(new QLabel(QStringLiteral("\u00d7"), this));
  sizeRow->addWidget(height_, 1);
  sizeRow->addWidget(unit_);
  auto* form = new QFormLayout(this);
  form->addRow(tr("File"), pathRow);
  form->addRow(tr("Format"), format_);
  form->addRow(tr("Size"), sizeRow);
  form->addRow(tr("DPI"), dpi_);
  form->addRow(QString(), size_);
  form->addRow(QString(), title_);
  form->addRow(QString(), legend_);
  form->addRow(style_);
  form->addRow(buttons);

  ExportRequest defaults;
  defaults.path = suggestedPath;
  defaults.format = formatForPath(suggestedPath);
  defaults.unit = ExportRequest::Unit::kInches;
  defaults.width = 3.5;
  defaults.height = 3.5;
  defaults.legend = true;
  defaults.style = PaperStyle::load(QSettings());
  setRequest(defaults);

  connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
  connect(format_, &QComboBox::currentIndexChanged, this, &ExportDialog::formatChosen);
  connect(unit_, &QComboBox::currentIndexChanged, this, &ExportDialog::unitChosen);
  for (QDoubleSpinBox* box : {width_, height_}) {
    connect(box, &QDoubleSpinBox::valueChanged, this, &ExportDialog::showSize);
  }
  connect(dpi_, &QSpinBox::valueChanged, this, &ExportDialog::showSize);
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
  if (!path_->text().isEmpty()) {
    path_->setText(info.dir().filePath(info.completeBaseName() + "." + kSuffixes.value(index)));
  }
  showSize();
}

void ExportDialog::unitChosen(int index) {
  // The same figure in the new unit.
  ExportRequest r = request();
  r.unit = shownUnit_;
  const auto unit = static_cast<ExportRequest::Unit>(index);
  const QSizeF in = r.inches();
  const double per = unit == ExportRequest::Unit::kInches ? 1.0
                     : unit == ExportRequest::Unit::kCm   ? 2.54
                                                          : double(r.dpi);
  shownUnit_ = unit;
  for (QDoubleSpinBox* box : {width_, height_}) setUnit(box, unit);
  width_->setValue(in.width() * per);
  height_->setValue(in.height() * per);
  showSize();
}

void ExportDialog::showSize() {
  const ExportRequest r = request();
  const QSizeF in = r.inches();
  const QString inches =
      tr("%1 \u00d7 %2 in").arg(in.width(), 0, 'f', 2).arg(in.height(), 0, 'f', 2);
  const QString problem = r.check();
  if (!problem.isEmpty()) {
    size_->setText(problem);
  } else if (r.format == ExportRequest::Format::kPng) {
    size_->setText(
        tr("%1 \u00d7 %2 pixels, %3").arg(r.pixels().width()).arg(r.pixels().height()).arg(inches));
  } else {
    size_->setText(tr("a page of %1").arg(inches));
  }
  // The DPI sets a PNG's pixels, and converts a size given in pixels.
  dpi_->setEnabled(r.format == ExportRequest::Format::kPng ||
                   r.unit == ExportRequest::Unit::kPixels);
}

ExportRequest ExportDialog::request() const {
  ExportRequest r;
  r.path = path_->text();
  r.format = static_cast<ExportRequest::Format>(format_->currentIndex());
  r.unit = static_cast<ExportRequest::Unit>(unit_->currentIndex());
  r.width = width_->value();
  r.height = height_->value();
  r.dpi = dpi_->value();
  r.title = title_->isChecked();
  r.legend = legend_->isChecked();
  r.style = style_->style();
  return r;
}

void ExportDialog::setRequest(const ExportRequest& r) {
  {
    const QSignalBlocker a(format_), b(unit_);
    path_->setText(r.path);
    format_->setCurrentIndex(static_cast<int>(r.format));
    unit_->setCurrentIndex(static_cast<int>(r.unit));
  }
  shownUnit_ = r.unit;
  for (QDoubleSpinBox* box : {width_, height_}) setUnit(box, r.unit);
  width_->setValue(r.width);
  height_->setValue(r.height);
  dpi_->setValue(r.dpi);
  title_->setChecked(r.title);
  legend_->setChecked(r.legend);
  style_->setStyle(r.style);
  showSize();
}

}  // namespace kvs::ui
