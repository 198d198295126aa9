#include "token_fates.h"

#include <QObject>

namespace kvs::ui {

QString fateName(Fate fate) {
  switch (fate) {
    case Fate::kKept:
      return QObject::tr("kept");
    case Fate::kProtected:
      return QObject::tr("protected");
    case Fate::kPivot:
      return QObject::tr("pivot");
    case Fate::kMerged:
      return QObject::tr("merged");
    case Fate::kEvicted:
      return QObject::tr("evicted");
  }
  return {};
}

QVector<TokenFate> tokenFates(const HeadLayout& head, int tokens) {
  QVector<TokenFate> fates(tokens);
  for (int t = 0; t < tokens; ++t) fates[t] = {Fate::kKept, t, t, t};
  if (head.slots.empty()) return fates;
  for (TokenFate& f : fates) f.fate = Fate::kEvicted;  // until a slot covers it
  for (const Slot& s : head.slots) {
    for (int t = s.first; t <= s.last && t < tokens; ++t) {
      Fate fate = Fate::kKept;
      if (s.count > 1) fate = t == s.pivot ? Fate::kPivot : Fate::kMerged;
      fates[t] = {fate, s.first, s.last, s.pivot};
    }
  }
  for (int t = 0; t < tokens && t < static_cast<int>(head.isProtected.size()); ++t) {
    if (head.isProtected[t]) fates[t].fate = Fate::kProtected;
  }
  return fates;
}

}  // namespace kvs::ui
