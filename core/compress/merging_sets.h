#pragma once
// KVMerger's two steps (kvmerger-spec.md sections 2 and 3), as plain functions on one
// (layer, KV head): find merging sets of adjacent similar keys, then merge a set with
// Gaussian-kernel weights around its pivot.

#include <ATen/core/Tensor.h>

#include <vector>

#include "compress/compression_params.h"

namespace kvs {

// c[i] = cos(K[i], K[i+1]), i = 0 .. S-2, in fp32 with norms clamped at 1e-6.  keys: [S, D].
std::vector<float> adjacentCosine(const at::Tensor& keys);

// The `recent` last slots, and the `heavy` slots with the largest attention among the rest
// (ties: lower index), are protected: never merged.
std::vector<char> protectedSlots(const std::vector<double>& attention, int recent, int heavy);

struct MergingSet {
  int first, last;  // slot indices, inclusive
  int size() const { return last - first + 1; }
};

// Greedy backward scan: slot i joins the set of slot i+1 when cos[i] > eps and neither is
// protected. Returns the sets in token order; protected slots are singletons.
std::vector<MergingSet> identifyMergingSets(const std::vector<float>& cos,
                                            const std::vector<char>& isProtected, double eps);

// The largest eps (from the candidate thresholds the cosines define) whose sets number at most
// target; the sets of the most merging allowed when even that does not fit.
double epsForBudget(const std::vector<float>& cos, const std::vector<char>& isProtected,
                    int target);

// KVMerger's decision for one head (or, in the shared layout, one layer): what is protected, the
// threshold, and the sets it gives.
struct SetDecision {
  std::vector<char> isProtected;  // [S]
  double eps = 0;                 // given, or searched for an exact budget
  std::vector<MergingSet> sets;
  int releasedProtected = 0;  // protected tokens released so that an exact budget fits
};

// Protects the `recent` last slots and the `heavy` top-attention others, then scans with eps (or,
// for an exact budget, with epsForBudget's threshold). Every run of unprotected slots between
// protected ones needs a slot of its own, so protection scattered among few slots can leave more
// sets than the target: then protection is released, the heavy hitters with the least attention
// first and the oldest recent slots after them, until the sets fit. A target >= 1 always fits.
SetDecision decideMergingSets(const std::vector<float>& cos, const std::vector<double>& attention,
                              int recent, int heavy, int target, bool exactBudget, double eps);

struct GaussianMerge {
  int pivot = 0;               // slot index (largest attention in the set; ties: lowest index)
  std::vector<float> weights;  // per member, sum to 1, the pivot's the largest
  double sigma = 0;            // the bandwidth used
};

// The pivot of a set: its member with the largest attention (ties: the lowest index).
int pivotOf(const std::vector<double>& attention, const MergingSet& set);

// keys: [S, D]; members first..last of one set.
GaussianMerge gaussianMerge(const at::Tensor& keys, const std::vector<double>& attention,
                            const MergingSet& set, double sigma, SigmaMode mode);
// The same over S rows of D contiguous floats (no tensor dispatch per set).
GaussianMerge gaussianMerge(const float* keys, int64_t D, const std::vector<double>& attention,
                            const MergingSet& set, double sigma, SigmaMode mode);

}  // namespace kvs
