#include "compare_table_model.h"

#include <QLocale>
#include <algorithm>

#include "compress/compression_method.h"

namespace kvs::ui {

bool CompareTableModel::addVariant(const CompressionParams& params) {
  if (variants_.size() >= kMaxVariants) return false;
  beginResetModel();
  variants_.push_back(params);
  result_ = {};
  endResetModel();
  return true;
}

void CompareTableModel::removeVariant(int row) {
  // With a result shown, row 0 is the full cache and variant i is row i + 1.
  const int i = result_.rows.isEmpty() ? row : row - 1;
  if (i < 0 || i >= variants_.size()) return;
  beginResetModel();
  variants_.remove(i);
  result_ = {};
  endResetModel();
}

void CompareTableModel::setResult(const CompareResult& result) {
  beginResetModel();
  result_ = result;
  endResetModel();
}

int CompareTableModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid()) return 0;
  return static_cast<int>(result_.rows.isEmpty() ? variants_.size() : result_.rows.size());
}

int CompareTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant CompareTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  const bool compared = !result_.rows.isEmpty();
  const CompressionParams& p = compared ? result_.rows[index.row()].params : variants_[index.row()];
  const auto keys = methodNamed(p.method).parameterKeys();
  const auto reads = [&](const char* key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  const auto number = [](double v, int digits) { return QString::number(v, 'f', digits); };
  switch (index.column()) {
    case kMethod:
      return QString::fromStdString(p.method);
    case kBudget:
      return compresses(p) ? number(p.budget, 2) : QString("1");
    case kEps:
      return reads("eps") ? (p.exactBudget ? tr("exact") : number(p.eps, 3)) : QString();
    case kSigma:
      return reads("sigma") ? number(p.sigma, 2) : QString();
  }
  if (!compared) return QString();
  const CompareRow& r = result_.rows[index.row()];
  switch (index.column()) {
    case kMeanKl:
      return number(r.meanKl, 4);
    case kMaxKl:
      return number(r.maxKl, 3);
    case kTop1:
      return number(r.top1, 3);
    case kNll:
      return number(r.nll, 4);
    case kBytes:
      return QLocale().toString(r.kvBytes);
    case kKept:
      return number(r.achievedRatio * 100, 1) + "%";
  }
  return {};
}

QVariant CompareTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section;
  const char* names[] = {"method", "budget", "eps", "sigma",    "mean KL",
                         "max KL", "top-1",  "NLL", "KV bytes", "kept"};
  return section >= 0 && section < kColumns ? tr(names[section]) : QVariant();
}

}  // namespace kvs::ui
