#include "figure_decoration.h"

#include "qcustomplot_include.h"

namespace kvs::ui {
namespace {

constexpr int kTitlePad = 4;

// A title over the whole page: it asks for no width (a long title in the axis rect's column
// would squeeze the plot) and wraps onto as many lines as the page's width needs.
class FigureTitle : public QCPTextElement {
 public:
  FigureTitle(QCustomPlot* plot, const QString& text, const QFont& font)
      : QCPTextElement(plot, text, font) {}

  QSize minimumOuterSizeHint() const override {
    const QRect box =
        QFontMetrics(mFont).boundingRect(QRect(0, 0, pageWidth(), 1 << 20), flags(), mText);
    return QSize(0, box.height() + 2 * kTitlePad);
  }
  QSize maximumOuterSizeHint() const override {
    return QSize(QWIDGETSIZE_MAX, minimumOuterSizeHint().height());
  }

 protected:
  void draw(QCPPainter* painter) override {
    painter->setFont(mFont);
    painter->setPen(QPen(mTextColor));
    const QRect page = mParentPlot->viewport();
    painter->drawText(QRect(page.left() + kTitlePad, mRect.top(), pageWidth(), mRect.height()),
                      flags(), mText);
  }

 private:
  int pageWidth() const { return std::max(50, mParentPlot->viewport().width() - 2 * kTitlePad); }
  static int flags() { return Qt::AlignCenter | Qt::TextWordWrap; }
};

void layOut(QCustomPlot* plot) {
  // What QCustomPlot::updateLayout does before every draw.
  for (auto phase :
       {QCPLayoutElement::upPreparation, QCPLayoutElement::upMargins, QCPLayoutElement::upLayout}) {
    plot->plotLayout()->update(phase);
  }
}

}  // namespace

FigureDecoration::FigureDecoration(QCustomPlot* plot) : plot_(plot) {}

FigureDecoration::~FigureDecoration() {
  for (auto it = restore_.rbegin(); it != restore_.rend(); ++it) (*it)();
  plot_->replot();
}

void FigureDecoration::leaveOut(QCPLayoutElement* element) {
  QCPLayoutGrid* grid = plot_->plotLayout();
  int row = -1, column = -1;
  for (int i = 0; i < grid->elementCount(); ++i) {
    if (grid->elementAt(i) == element) grid->indexToRowCol(i, row, column);
  }
  if (row < 0 || !grid->take(element)) return;
  // Out of the layout it would still be drawn, where it was on screen.
  const bool visible = element->visible();
  element->setVisible(false);
  bool rowEmpty = true;
  for (int c = 0; c < grid->columnCount(); ++c) rowEmpty = rowEmpty && !grid->hasElement(row, c);
  if (rowEmpty) grid->simplify();  // the row goes, not only its content
  restore_.push_back([grid, element, row, column, rowEmpty, visible] {
    if (rowEmpty) grid->insertRow(row);
    grid->addElement(row, column, element);
    element->setVisible(visible);
  });
}

QCPTextElement* FigureDecoration::addTitle(const QString& text, int titlePt) {
  QFont font = plot_->font();
  font.setPointSize(titlePt);
  auto* title = new FigureTitle(plot_, text, font);
  QCPLayoutGrid* grid = plot_->plotLayout();
  grid->insertRow(0);
  grid->addElement(0, 0, title);
  restore_.push_back([grid, title] {
    grid->remove(title);  // deletes it
    grid->simplify();
  });
  return title;
}

void FigureDecoration::addBelow(QCPLayoutElement* element) {
  QCPLayoutGrid* grid = plot_->plotLayout();
  grid->addElement(grid->rowCount(), 0, element);
  restore_.push_back([grid, element] {
    grid->remove(element);
    grid->simplify();
  });
}

void FigureDecoration::fit(QCustomPlot* plot, const QSize& layoutSize) {
  if (!square_ && !laidOut_) return;
  QCPAxisRect* rect = plot->axisRect();
  // Margins a margin group shares only grow (QCPLayoutElement's automatic margin is the larger of
  // its last margin and its minimum): every element starts from its minimum and gets its
  // margins back afterwards, so neither the next export nor the screen inherits these.
  for (QCPLayoutElement* e : plot->plotLayout()->elements(true)) {
    if (!e) continue;
    restore_.push_back([e, m = e->margins(), least = e->minimumMargins()] {
      e->setMinimumMargins(least);
      e->setMargins(m);
    });
    if (e != rect && e->marginGroups().size() > 0) e->setMargins(e->minimumMargins());
  }
  const QRect viewport = plot->viewport();
  plot->setViewport(QRect(QPoint(0, 0), layoutSize));
  if (laidOut_) {
    layOut(plot);
    laidOut_();  // e.g. tick labels thinned for the figure's axis length
  }
  // The page's spare width (or height) goes to both sides of the whole layout, so the data area
  // is square and the colour bar stays beside it. Tick labels keep their room, so a pass or two
  // settles it.
  QCPLayoutGrid* grid = plot->plotLayout();
  restore_.push_back([grid, m = grid->margins(), least = grid->minimumMargins()] {
    grid->setMinimumMargins(least);
    grid->setMargins(m);
  });
  for (int pass = 0; square_ && pass < 4; ++pass) {
    layOut(plot);
    const QRect r = rect->rect();
    const int d = r.width() - r.height();
    if (d == 0) break;
    QMargins m = grid->minimumMargins();
    if (d > 0) {
      m.setLeft(m.left() + d / 2);
      m.setRight(m.right() + d - d / 2);
    } else {
      m.setTop(m.top() - d / 2);
      m.setBottom(m.bottom() - d + d / 2);
    }
    grid->setMinimumMargins(m);
    grid->setMargins(m);
  }
  plot->setViewport(viewport);
}

}  // namespace kvs::ui
