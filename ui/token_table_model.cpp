#include "token_table_model.h"

#include <QColor>

namespace kvs::ui {

QColor fateColour(Fate fate) {
  switch (fate) {
    case Fate::kKept:
      return QColor(255, 255, 255, 0);
    case Fate::kProtected:
      return QColor(250, 180, 180);
    case Fate::kPivot:
      return QColor(120, 200, 190);
    case Fate::kMerged:
      return QColor(190, 230, 225);
    case Fate::kEvicted:
      return QColor(200, 200, 200);
  }
  return {};
}

void TokenTableModel::setTokens(const QVector<int>& ids, const QStringList& pieces,
                                const QVector<TokenFate>& fates) {
  beginResetModel();
  ids_ = ids;
  pieces_ = pieces;
  fates_ = fates;
  fates_.resize(ids_.size());
  endResetModel();
}

int TokenTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(ids_.size());
}

int TokenTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : kColumns;
}

QVariant TokenTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
    return {};
  }
  const int row = index.row();
  const TokenFate& f = fates_[row];
  if (role == Qt::BackgroundRole) return fateColour(f.fate);
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case kPosition:
      return row;
    case kId:
      return ids_[row];
    case kPiece:
      return pieces_.value(row);
    case kFate:
      return fateName(f.fate);
    case kSet:
      return f.first == f.last ? QString::number(f.first)
                               : QStringLiteral("%1-%2").arg(f.first).arg(f.last);
    case kPivot:
      return f.pivot;
  }
  return {};
}

QVariant TokenTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (role != Qt::DisplayRole) return {};
  if (orientation == Qt::Vertical) return section;
  const char* names[] = {"position", "id", "piece", "fate", "set", "pivot"};
  return section >= 0 && section < kColumns ? tr(names[section]) : QVariant();
}

}  // namespace kvs::ui
