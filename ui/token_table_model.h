#pragma once
// TokenTableModel: one row per prompt token of the selected (layer, head): position, id, piece,
// what the compression setting does to it, its set and pivot. Read-only.

#include <QAbstractTableModel>
#include <QStringList>

#include "token_fates.h"

namespace kvs::ui {

class TokenTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { kPosition, kId, kPiece, kFate, kSet, kPivot, kColumns };
  using QAbstractTableModel::QAbstractTableModel;

  // ids and pieces of the prompt; fates: tokenFates() of one head (or empty: all kept).
  void setTokens(const QVector<int>& ids, const QStringList& pieces,
                 const QVector<TokenFate>& fates);
  const QVector<TokenFate>& fates() const { return fates_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QVector<int> ids_;
  QStringList pieces_;
  QVector<TokenFate> fates_;
};

// The background colour the views use for a fate.
QColor fateColour(Fate fate);

}  // namespace kvs::ui
