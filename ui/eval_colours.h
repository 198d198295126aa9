#pragma once
// The Evaluation panel's colour per setting (matplotlib's tab10, as papers' figures use), so a
// setting has the same colour in the LongBench bars and the perplexity curves.

#include <QColor>

namespace kvs::ui {

// tab10, then tab20's light shades of the same hues: eleven settings (the full cache and five
// methods at two budgets) never share a colour.
inline QColor settingColour(int index) {
  static const QColor kTab10[] = {{31, 119, 180},  {255, 127, 14}, {44, 160, 44},   {214, 39, 40},
                                  {148, 103, 189}, {140, 86, 75},  {227, 119, 194}, {127, 127, 127},
                                  {188, 189, 34},  {23, 190, 207}};
  static const QColor kTab10Light[] = {{174, 199, 232}, {255, 187, 120}, {152, 223, 138},
                                       {255, 152, 150}, {197, 176, 213}, {196, 156, 148},
                                       {247, 182, 210}, {199, 199, 199}, {219, 219, 141},
                                       {158, 218, 229}};
  return (index / 10) % 2 ? kTab10Light[index % 10] : kTab10[index % 10];
}

}  // namespace kvs::ui
