#pragma once
// MatrixPyramid: a [T, T] matrix and its 2x2 block means, 4x4, ... so a view of any zoom reads at
// most a fixed number of cells: large T stays smooth (downsampled when zoomed out, full
// resolution when zoomed in).

#include <cstddef>
#include <vector>

namespace kvs::ui {

class MatrixPyramid {
 public:
  // values: [n, n] row-major.
  void set(std::vector<float> values, int n);
  int size() const { return n_; }
  bool empty() const { return n_ == 0; }
  // Level l averages blocks of 2^l x 2^l cells (the last block of a row may be smaller).
  int levels() const { return static_cast<int>(levels_.size()); }
  int levelSize(int level) const { return sizes_[level]; }
  // Cell (row, col) of a level.
  float at(int level, int row, int col) const {
    return levels_[level][static_cast<std::size_t>(row) * sizes_[level] + col];
  }
  // The finest level whose cells over a span of `span` tokens number at most maxCells.
  int levelFor(int span, int maxCells) const;
  float min() const { return min_; }
  float max() const { return max_; }

 private:
  int n_ = 0;
  std::vector<std::vector<float>> levels_;
  std::vector<int> sizes_;
  float min_ = 0, max_ = 0;
};

}  // namespace kvs::ui
