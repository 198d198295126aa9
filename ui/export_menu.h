#pragma once
// ExportMenu: the File menu's export entries, one per figure of each registered ExportableView.
// An entry asks where and how (ExportDialog, starting from the size, format and options last used
// for that figure), then writes the figure, its CSV and the JSON sidecar (the session's settings
// around the view's description).

#include <QObject>
#include <QSizeF>
#include <QVector>
#include <functional>

#include "plot_exporter.h"

class QAction;
class QMenu;
class QWidget;

namespace kvs::ui {

class ExportableView;

class ExportMenu : public QObject {
  Q_OBJECT

 public:
  // The sidecar written beside every figure, given the view's description.
  using Sidecar = std::function<QJsonObject(const QJsonObject& view)>;
  // Writes an entry's files; returns an empty string or what went wrong.
  using Writer = std::function<QString(const ExportRequest& request)>;

  // Entries go into menu before `before` (its end when null); dialogs open over parent.
  ExportMenu(QMenu* menu, QAction* before, QWidget* parent, Sidecar sidecar);

  // An entry per figure of view, which must outlive the menu (both belong to the window).
  void addView(ExportableView* view);
  // An entry that writes its files itself (e.g. the heatmap of every layer), same dialog; inches:
  // the size offered first.
  QAction* addEntry(const QString& name, const QString& menuText, Writer write,
                    QSizeF inches = {3.5, 2.6});
  // Writes figure `name` as its entry does, without the dialog.
  QString exportFigure(const QString& name, const ExportRequest& request) const;
  // The entry's action (its dialog first), e.g. for a panel's own Export button.
  void trigger(const QString& name);
  // What the dialog of entry `name` starts from: the last export of that entry, or a figure of
  // its default size in inches at 300 DPI with a legend, as PNG in the last folder used.
  ExportRequest lastRequest(const QString& name) const;

 Q_SIGNALS:
  void exported(const QString& path);
  void failed(const QString& message);

 private:
  struct Entry {
    QString name;
    QAction* action;
    Writer write;
    QSizeF inches;
  };
  void exportWithDialog(const Entry& entry);
  const Entry* find(const QString& name) const;

  QMenu* menu_;
  QAction* before_;
  QWidget* parent_;
  Sidecar sidecar_;
  QVector<Entry> entries_;
};

}  // namespace kvs::ui
