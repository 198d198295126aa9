#pragma once
// The Evaluation panel's colour per setting (matplotlib's tab10, as papers' figures use), so a
// setting has the same colour in the LongBench bars and the perplexity curves.

#include <QColor>

namespace kvs::ui {

inline QColor settingColour(int index) {
  static const QColor kTab10[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                  {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                  {188, 189, 34},  {23, 190, 207}};
  return kTab10[index % 10];
}

}  // namespace kvs::ui
