#include "paper_style_editor.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFontComboBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>

#include "colour_maps.h"

namespace kvs::ui {
namespace {

QSpinBox* points(QWidget* parent, const char* name) {
  auto* box = new QSpinBox(parent);
  box->setObjectName(name);
  box->setRange(4, 72);
  box->setSuffix(QStringLiteral(" pt"));
  return box;
}

}  // namespace

PaperStyleEditor::PaperStyleEditor(QWidget* parent) : QGroupBox(tr("Paper style"), parent) {
  setObjectName("paperStyle");
  setCheckable(true);
  font_ = new QFontComboBox(this);
  font_->setObjectName("paperFont");
  tickPt_ = points(this, "paperTickPt");
  labelPt_ = points(this, "paperLabelPt");
  titlePt_ = points(this, "paperTitlePt");
  colourMap_ = new QComboBox(this);
  colourMap_->setObjectName("paperColourMap");
  colourMap_->addItem(tr("(as shown)"), QString());
  for (const QString& name : colourMapNames()) colourMap_->addItem(name, name);
  colourBarLabel_ = new QLineEdit(this);
  colourBarLabel_->setObjectName("paperColourBarLabel");
  colourBarLabel_->setPlaceholderText(tr("(the view's label)"));
  lineWidth_ = new QDoubleSpinBox(this);
  lineWidth_->setObjectName("paperLineWidth");
  lineWidth_->setRange(0.25, 8);
  lineWidth_->setSingleStep(0.25);
  auto* form = new QFormLayout(this);
  form->addRow(tr("Font"), font_);
  form->addRow(tr("Tick labels, legend"), tickPt_);
  form->addRow(tr("Axis labels"), labelPt_);
  form->addRow(tr("Titles"), titlePt_);
  form->addRow(tr("Colour map"), colourMap_);
  form->addRow(tr("Colour-bar label"), colourBarLabel_);
  form->addRow(tr("Line width"), lineWidth_);
  setStyle(PaperStyle{});
}

PaperStyle PaperStyleEditor::style() const {
  PaperStyle s;
  s.enabled = isChecked();
  s.fontFamily = font_->currentFont().family();
  s.tickPt = tickPt_->value();
  s.labelPt = labelPt_->value();
  s.titlePt = titlePt_->value();
  s.colourMap = colourMap_->currentData().toString();
  s.colourBarLabel = colourBarLabel_->text();
  s.lineWidth = lineWidth_->value();
  return s;
}

void PaperStyleEditor::setStyle(const PaperStyle& s) {
  setChecked(s.enabled);
  font_->setCurrentFont(s.fontFamily.isEmpty() ? font() : QFont(s.fontFamily));
  tickPt_->setValue(s.tickPt);
  labelPt_->setValue(s.labelPt);
  titlePt_->setValue(s.titlePt);
  colourMap_->setCurrentIndex(std::max(0, colourMap_->findData(s.colourMap)));
  colourBarLabel_->setText(s.colourBarLabel);
  lineWidth_->setValue(s.lineWidth);
}

}  // namespace kvs::ui
