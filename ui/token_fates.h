#pragma once
// What a merging layout does to each token of the prompt in one (layer, head): kept as it is,
// protected (recent or top attention, never merged), merged into a set (as its pivot or as a
// member), or evicted. Plain data for the token table and the output colouring.

#include "analysis/merging_layout.h"

#include <QString>
#include <QVector>

namespace kvs::ui {

enum class Fate { kKept, kProtected, kPivot, kMerged, kEvicted };
QString fateName(Fate fate);

struct TokenFate {
  Fate fate = Fate::kKept;
  int first = 0, last = 0;  // the set (slot) holding the token; first == last for a single
  int pivot = 0;
};

// [tokens] fates; an empty layout leaves every token kept.
QVector<TokenFate> tokenFates(const kvs::HeadLayout& head, int tokens);

}  // namespace kvs::ui
