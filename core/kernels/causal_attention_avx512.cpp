// causalAttentionTilesAvx512: a tile is up to four query rows of one KV head, taken in the order
// (position, group member), so its rows see nearly the same columns and share every load of the
// transposed keys and values: sixteen columns a step, one broadcast query element per row. The
// score pass keeps each row's maximum, one pass takes e^(s - max) and its sum, and the weighted
// values are divided by the sum at the end: two passes over the scores instead of a softmax's
// three and a fourth for the values. Compiled for AVX-512 in this file only.

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/causal_attention.h"

#pragma GCC push_options
// As in gemv_avx512.cpp: GCC 12's own _mm512_undefined_* idiom in the intrinsics headers.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC target("avx512f,avx512bw,avx512vl,fma")

#include "kernels/exp_avx512.h"  // after the target: its function is AVX-512 code

namespace kvs::kernels {
namespace {

constexpr int kTileRows = static_cast<int>(kCausalAttentionTileRows);

__mmask16 firstLanes(int64_t left) {  // lanes [0, left) of sixteen
  if (left <= 0) return 0;
  return left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

struct TileRow {
  const float* q;     // [D]
  const float* mask;  // [Tk] or null
  float* out;         // [D]
  float* probs;       // [Tk] or null
  float* scores;      // [ld] scratch
  int64_t visible;    // columns [0, visible) seen
  float max;          // of the row's visible scores
  float inverseSum;   // 1 / sum of their e^(s - max)
  bool nan;           // a visible score is NaN (a corrupt cache): the row's output is NaN
};

// Columns [j, j + 16 B) of scoreRows: B blocks of sixteen, so that R * B sums are in flight (one
// block of four rows was one FMA a cycle, waiting on each sum's latency).
template <int R, int B>
void scoreBlocks(TileRow* rows, const float* kT, int64_t D, int64_t ld, int64_t j, __m512 scale,
                 __m512* top, __mmask16* nan) {
  __m512 acc[R][B];
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < B; ++b) acc[r][b] = _mm512_setzero_ps();
  }
  for (int64_t d = 0; d < D; ++d) {
    for (int b = 0; b < B; ++b) {
      const __m512 k = _mm512_loadu_ps(kT + d * ld + j + 16 * b);  // ld is a multiple of 16
      for (int r = 0; r < R; ++r) {
        acc[r][b] = _mm512_fmadd_ps(_mm512_set1_ps(rows[r].q[d]), k, acc[r][b]);
      }
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int b = 0; b < B; ++b) {
      const int64_t at = j + 16 * b;
      const __mmask16 seen = firstLanes(rows[r].visible - at);
      __m512 v = _mm512_mul_ps(acc[r][b], scale);
      if (rows[r].mask) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(seen, rows[r].mask + at));
      top[r] = _mm512_mask_max_ps(top[r], seen, top[r], v);
      nan[r] |= _mm512_mask_cmp_ps_mask(seen, v, v, _CMP_UNORD_Q);
      _mm512_storeu_ps(rows[r].scores + at, v);
    }
  }
}

// scores[r][j] = scale * q_r . k_j + mask_r[j] for j < visible_r (whatever for the rest of the
// last sixteen-column step), k_j column j of kT; and each row's maximum and NaN flag.
template <int R>
void scoreRows(TileRow* rows, const float* kT, int64_t D, int64_t ld, float scale) {
  const int64_t columns = rows[R - 1].visible;  // the tile's last row sees the most
  const int64_t padded = (columns + 15) / 16 * 16;
  const __m512 s = _mm512_set1_ps(scale), minusInf = _mm512_set1_ps(-__builtin_inff());
  __m512 top[R];
  __mmask16 nan[R];
  for (int r = 0; r < R; ++r) top[r] = minusInf, nan[r] = 0;
  int64_t j = 0;
  for (; j + 32 <= padded; j += 32) scoreBlocks<R, 2>(rows, kT, D, ld, j, s, top, nan);
  if (j < padded) scoreBlocks<R, 1>(rows, kT, D, ld, j, s, top, nan);
  for (int r = 0; r < R; ++r) rows[r].max = _mm512_reduce_max_ps(top[r]), rows[r].nan = nan[r];
}

// scores <- e^(scores - max) over the visible columns and 0 after them up to the end of the
// tile's columns (rounded up to 16), so that weighValues reads whole vectors; the sum's inverse.
void exponentiate(TileRow& row, int64_t columns) {
  const __m512 max = _mm512_set1_ps(row.max);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < columns; j += 16) {
    const __mmask16 seen = firstLanes(row.visible - j);
    const __m512 e = _mm512_maskz_mov_ps(
        seen, expNonPositive(_mm512_sub_ps(_mm512_loadu_ps(row.scores + j), max)));
    _mm512_storeu_ps(row.scores + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  row.inverseSum = 1.0f / _mm512_reduce_add_ps(sum);
}

// Dimensions [d, d + W) of weighValues: R * W sums in flight, each probability vector loaded
// once for W dimensions.
template <int R, int W>
void weighDimensions(const TileRow* rows, const float* vT, int64_t d, int64_t ld, int64_t columns) {
  __m512 acc[R][W];
  for (int r = 0; r < R; ++r) {
    for (int w = 0; w < W; ++w) acc[r][w] = _mm512_setzero_ps();
  }
  for (int64_t j = 0; j < columns; j += 16) {
    __m512 p[R];
    for (int r = 0; r < R; ++r) p[r] = _mm512_loadu_ps(rows[r].scores + j);
    for (int w = 0; w < W; ++w) {
      const __m512 v = _mm512_loadu_ps(vT + (d + w) * ld + j);
      for (int r = 0; r < R; ++r) acc[r][w] = _mm512_fmadd_ps(p[r], v, acc[r][w]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int w = 0; w < W; ++w) {
      rows[r].out[d + w] = _mm512_reduce_add_ps(acc[r][w]) * rows[r].inverseSum;
    }
  }
}

// out_r[d] = sum_j p_r[j] v_j[d] / sum_r, with v_j column j of vT.
template <int R>
void weighValues(const TileRow* rows, const float* vT, int64_t D, int64_t ld) {
  const int64_t columns = rows[R - 1].visible;
  int64_t d = 0;
  for (; d + 4 <= D; d += 4) weighDimensions<R, 4>(rows, vT, d, ld, columns);
  for (; d < D; ++d) weighDimensions<R, 1>(rows, vT, d, ld, columns);
}

template <int R>
void runTile(TileRow* rows, const float* kT, const float* vT, int64_t D, int64_t ld, float scale,
             int64_t Tk) {
  scoreRows<R>(rows, kT, D, ld, scale);
  for (int r = 0; r < R; ++r) exponentiate(rows[r], rows[R - 1].visible);
  weighValues<R>(rows, vT, D, ld);
  for (int r = 0; r < R; ++r) {
    TileRow& row = rows[r];
    if (row.nan) std::fill(row.out, row.out + D, __builtin_nanf(""));  // as LibTorch's softmax
    if (!row.probs) continue;
    const float w = row.nan ? __builtin_nanf("") : row.inverseSum;
    for (int64_t j = 0; j < row.visible; ++j) row.probs[j] = row.scores[j] * w;
    std::fill(row.probs + row.visible, row.probs + Tk, 0.0f);
  }
}

}  // namespace

void causalAttentionTilesAvx512(const CausalAttentionArgs& a, int64_t first, int64_t last) {
  const int64_t G = a.Hq / a.Hkv, rowsPerHead = G * a.n;
  const int64_t tilesPerHead = (rowsPerHead + kTileRows - 1) / kTileRows;
  thread_local std::vector<float> scratch;
  scratch.resize(static_cast<size_t>(kTileRows * a.ld));
  for (int64_t t = first; t < last; ++t) {
    // Tiles in decreasing cost (the last positions first), KV heads interleaved, so that the
    // workers' last tiles are the cheapest.
    const int64_t h = t % a.Hkv, tile = tilesPerHead - 1 - t / a.Hkv;
    const int64_t r0 = tile * kTileRows, count = std::min<int64_t>(kTileRows, rowsPerHead - r0);
    TileRow rows[kTileRows];
    for (int64_t r = 0; r < count; ++r) {
      const int64_t i = (r0 + r) / G, g = (r0 + r) % G, head = h * G + g;
      const int64_t maskHead = a.maskHeads == 1 ? 0 : h;
      rows[r].q = a.q + (i * a.Hq + head) * a.D;
      rows[r].mask = a.mask ? a.mask + ((maskHead * G + g) * a.n + i) * a.Tk : nullptr;
      rows[r].out = a.out + i * a.Hq * a.D + head * a.D;
      rows[r].probs = a.probs ? a.probs + (head * a.n + i) * a.Tk : nullptr;
      rows[r].scores = scratch.data() + r * a.ld;
      rows[r].visible = a.Tk - a.n + i + 1;
    }
    const float* kT = a.keysT + h * a.D * a.ld;
    const float* vT = a.valuesT + h * a.D * a.ld;
    switch (count) {
      case 1:
        runTile<1>(rows, kT, vT, a.D, a.ld, a.scale, a.Tk);
        break;
      case 2:
        runTile<2>(rows, kT, vT, a.D, a.ld, a.scale, a.Tk);
        break;
      case 3:
        runTile<3>(rows, kT, vT, a.D, a.ld, a.scale, a.Tk);
        break;
      default:
        runTile<4>(rows, kT, vT, a.D, a.ld, a.scale, a.Tk);
        break;
    }
  }
}

}  // namespace kvs::kernels

#pragma GCC diagnostic pop
#pragma GCC pop_options
