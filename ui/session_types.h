#pragma once
// The value types that cross from the SessionWorker's thread into the GUI: plain structs of
// vectors and strings, registered as metatypes. No tensor or pointer into worker memory.

#include "analysis/merging_layout.h"
#include "analysis/similarity_view.h"
#include "cache/window_figures.h"
#include "compress/compression_params.h"

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>

namespace kvs::ui {

// The prompt after prefill: what the views label their axes with.
struct PromptInfo {
  QVector<int> ids;       // BOS included
  QStringList pieces;     // one per id, e.g. "▁Once"
  QString text;           // the prompt's decoded text (without BOS)
  QVector<int> charEnds;  // token i is text[charEnds[i-1] .. charEnds[i]) (BOS: empty)
  int layers = 0, kvHeads = 0, queryHeads = 0;
  bool hasAttention = false;  // the attention matrices were kept (small enough)
  double prefillMs = 0;
  QString model;      // file name, for sidecars
  QString recording;  // the recording the prompt was read from (its path); empty for a run
  quint64 ticket = 0;
};

struct LayoutResult {
  kvs::MergingLayout layout;
  kvs::CompressionParams params;
  double ms = 0;  // to compute on the worker
  quint64 ticket = 0;
};

struct SimilarityResult {
  kvs::SimilarityMatrix matrix;
  double ms = 0;
  quint64 ticket = 0;
};

// Small multiples of every (layer, head), and the adjacent-similarity curves, for the overview.
struct OverviewData {
  int source = 0;                              // kvs::SimilaritySource
  int layers = 0, heads = 0, size = 0;         // thumbnails: layers x heads, each size x size
  std::vector<std::vector<float>> thumbnails;  // [layer * heads + head][size * size]
  std::vector<std::vector<std::vector<float>>> adjacentCos;  // [L][Hkv][T-1], keys after RoPE
  quint64 ticket = 0;
};

// One compressed continuation and the memory its cache held.
struct VariantSummary {
  kvs::CompressionParams params;
  QString text;  // the continuation, without the prompt
  QVector<int> ids;
  QVector<qint64> layerBytes;      // [L] right after compression
  QVector<qint64> layerFullBytes;  // [L] a full cache of the prompt
  QVector<qint64> bytesPerStep;    // total after compression, then after each decode step
  QVector<qint64> fullBytesPerStep;
  double achievedRatio = 1;
  double compressMs = 0, decodeMs = 0;
  qint64 processBytes = 0;    // resident set size of the process at the end
  kvs::WindowFigures window;  // what Mistral's sliding window dropped by the end (window 0: none)
  bool reference = false;     // the full cache's continuation, kept for comparison
  quint64 ticket = 0;
};

// One row of the Compare view: a variant's greedy text and its quality against the full cache
// (kvs::compareVariants; row 0 is the full cache).
struct CompareRow {
  kvs::CompressionParams params;
  QStringList chunks;     // the continuation's text per generated token
  QVector<bool> differs;  // per token: not the full cache's token at that step
  double meanKl = 0, maxKl = 0, top1 = 1, nll = 0;
  qint64 kvBytes = 0, kvBytesFull = 0;
  double achievedRatio = 1;
  double seconds = 0;
};

struct CompareResult {
  QVector<CompareRow> rows;
  quint64 ticket = 0;
};

// A recording the worker wrote during a run, or opened to explore without the model.
struct RecordingReport {
  QString path;
  qint64 bytes = 0;       // the file's size on disk
  int tokens = 0;         // positions whose states the file holds
  bool complete = false;  // false: stopped or failed, and the file says so
  QString error;          // why recording failed (empty: it did not)
  QString description;    // opened: the model and what was recorded, for the status bar
  double ms = 0;          // run: time spent writing; opened: time to read it
  quint64 ticket = 0;
};

}  // namespace kvs::ui

Q_DECLARE_METATYPE(kvs::CompressionParams)
Q_DECLARE_METATYPE(kvs::ui::RecordingReport)
Q_DECLARE_METATYPE(kvs::ui::PromptInfo)
Q_DECLARE_METATYPE(kvs::ui::LayoutResult)
Q_DECLARE_METATYPE(kvs::ui::SimilarityResult)
Q_DECLARE_METATYPE(kvs::ui::VariantSummary)
Q_DECLARE_METATYPE(kvs::ui::OverviewData)
Q_DECLARE_METATYPE(kvs::ui::CompareResult)
