#include "matrix_pyramid.h"

#include <algorithm>

namespace kvs::ui {

void MatrixPyramid::set(std::vector<float> values, int n) {
  n_ = n;
  levels_.clear();
  sizes_.clear();
  min_ = max_ = 0;
  if (n == 0) return;
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  min_ = *lo;
  max_ = *hi;
  levels_.push_back(std::move(values));
  sizes_.push_back(n);
  while (sizes_.back() > 1) {
    const int m = sizes_.back();
    const int h = (m + 1) / 2;
    const std::vector<float>& src = levels_.back();
    std::vector<float> dst(static_cast<size_t>(h) * h);
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < h; ++c) {
        float sum = 0;
        int count = 0;
        for (int dr = 0; dr < 2 && 2 * r + dr < m; ++dr) {
          for (int dc = 0; dc < 2 && 2 * c + dc < m; ++dc) {
            sum += src[static_cast<size_t>(2 * r + dr) * m + 2 * c + dc];
            ++count;
          }
        }
        dst[static_cast<size_t>(r) * h + c] = sum / count;
      }
    }
    levels_.push_back(std::move(dst));
    sizes_.push_back(h);
  }
}

int MatrixPyramid::levelFor(int span, int maxCells) const {
  int level = 0;
  while (level + 1 < levels() && (span >> level) > maxCells) ++level;
  return level;
}

}  // namespace kvs::ui
