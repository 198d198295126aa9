#pragma once
// CompareTableModel: the Compare view's variants, one row each: their settings before a compare,
// then their quality against the full cache (row 0 after a compare) and their memory.

#include <QAbstractTableModel>

#include "session_types.h"

namespace kvs::ui {

class CompareTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    kMethod,
    kBudget,
    kEps,
    kSigma,
    kMeanKl,
    kMaxKl,
    kTop1,
    kNll,
    kBytes,
    kKept,
    kColumns
  };
  static constexpr int kMaxVariants = 4;
  using QAbstractTableModel::QAbstractTableModel;

  // Variants to compare (without the full cache, which every compare adds as row 0).
  const QVector<kvs::CompressionParams>& variants() const { return variants_; }
  bool addVariant(const kvs::CompressionParams& params);  // false when there are kMaxVariants
  void removeVariant(int row);
  // Rows become the result's (full cache first) until the variants change.
  void setResult(const CompareResult& result);
  const CompareResult& result() const { return result_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation,
                      int role = Qt::DisplayRole) const override;

 private:
  QVector<kvs::CompressionParams> variants_;
  CompareResult result_;  // empty rows: not compared yet
};

}  // namespace kvs::ui
