#include "export_menu.h"

#include <QAction>
#include <QDir>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>

#include "export_dialog.h"
#include "exportable_view.h"

namespace kvs::ui {

ExportMenu::ExportMenu(QMenu* menu, QAction* before, QWidget* parent, Sidecar sidecar)
    : QObject(parent),
      menu_(menu),
      before_(before),
      parent_(parent),
      sidecar_(std::move(sidecar)) {}

void ExportMenu::addView(const ExportableView* view) {
  for (const ExportFigure& f : view->exportFigures()) {
    QAction* action = addEntry(f.name, f.menuText, [this, view, f](const ExportRequest& r) {
      QJsonObject json = view->viewJson();
      json["panel"] = f.name;
      return exportPlot(f.plot, r, view->csv(), sidecar_(json));
    });
    if (!f.actionName.isEmpty()) action->setObjectName(f.actionName);
    if (!f.shortcut.isEmpty()) action->setShortcut(f.shortcut);
  }
}

QAction* ExportMenu::addEntry(const QString& name, const QString& menuText, Writer write) {
  auto* action = new QAction(menuText, menu_);
  menu_->insertAction(before_, action);
  entries_.push_back({name, action, std::move(write)});
  // By name, not by the entry: entries_ may reallocate as entries are added.
  connect(action, &QAction::triggered, this, [this, name] { trigger(name); });
  return action;
}

const ExportMenu::Entry* ExportMenu::find(const QString& name) const {
  for (const Entry& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

QString ExportMenu::exportFigure(const QString& name, const ExportRequest& request) const {
  const Entry* e = find(name);
  return e ? e->write(request) : tr("no view exports %1").arg(name);
}

void ExportMenu::trigger(const QString& name) {
  // A copy: the dialog runs its own event loop, during which entries_ may change.
  if (const Entry* e = find(name)) exportWithDialog(Entry(*e));
}

void ExportMenu::exportWithDialog(const Entry& entry) {
  QSettings settings;
  const QString dir = settings.value("export/dir", QDir::homePath()).toString();
  ExportDialog dialog(QDir(dir).filePath(QStringLiteral("kvstudio-%1.png").arg(entry.name)),
                      parent_);
  if (dialog.exec() != QDialog::Accepted) return;
  const ExportRequest request = dialog.request();
  settings.setValue("export/dir", QFileInfo(request.path).absolutePath());
  const QString error = entry.write(request);
  if (error.isEmpty()) {
    Q_EMIT exported(request.path);
  } else {
    Q_EMIT failed(error);
  }
}

}  // namespace kvs::ui
