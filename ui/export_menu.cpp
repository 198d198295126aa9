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

void ExportMenu::addView(ExportableView* view) {
  for (const ExportFigure& f : view->exportFigures()) {
    QAction* action = addEntry(
        f.name, f.menuText,
        [this, view, f](const ExportRequest& r) {
          QJsonObject json = view->viewJson();
          json["panel"] = f.name;
          // The title and legend go into the plot first, so the paper style reaches them too.
          const std::unique_ptr<ExportDecoration> decoration = view->decorate(f.name, r);
          return exportPlot(f.plot, r, view->figureCsv(f.name), sidecar_(json), decoration.get());
        },
        f.inches);
    if (!f.actionName.isEmpty()) action->setObjectName(f.actionName);
    if (!f.shortcut.isEmpty()) action->setShortcut(f.shortcut);
  }
}

QAction* ExportMenu::addEntry(const QString& name, const QString& menuText, Writer write,
                              QSizeF inches) {
  auto* action = new QAction(menuText, menu_);
  menu_->insertAction(before_, action);
  entries_.push_back({name, action, std::move(write), inches});
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

ExportRequest ExportMenu::lastRequest(const QString& name) const {
  const Entry* e = find(name);
  const QSizeF inches = e ? e->inches : QSizeF(3.5, 2.6);
  QSettings s;
  const QString dir = s.value("export/dir", QDir::homePath()).toString();
  const QString key = QStringLiteral("export/%1/").arg(name);
  ExportRequest r;
  r.path = s.value(key + "path", QDir(dir).filePath(QStringLiteral("kvstudio-%1.png").arg(name)))
               .toString();
  r.format = formatForPath(r.path);
  r.unit = static_cast<ExportRequest::Unit>(
      s.value(key + "unit", int(ExportRequest::Unit::kInches)).toInt());
  r.width = s.value(key + "width", inches.width()).toDouble();
  r.height = s.value(key + "height", inches.height()).toDouble();
  r.dpi = s.value(key + "dpi", 300).toInt();
  r.title = s.value(key + "title", false).toBool();
  r.legend = s.value(key + "legend", true).toBool();
  r.style = PaperStyle::load(s);
  return r;
}

void ExportMenu::exportWithDialog(const Entry& entry) {
  ExportDialog dialog(QString(), parent_);
  dialog.setRequest(lastRequest(entry.name));
  if (dialog.exec() != QDialog::Accepted) return;
  const ExportRequest request = dialog.request();
  QSettings s;
  s.setValue("export/dir", QFileInfo(request.path).absolutePath());
  const QString key = QStringLiteral("export/%1/").arg(entry.name);
  s.setValue(key + "path", request.path);
  s.setValue(key + "unit", int(request.unit));
  s.setValue(key + "width", request.width);
  s.setValue(key + "height", request.height);
  s.setValue(key + "dpi", request.dpi);
  s.setValue(key + "title", request.title);
  s.setValue(key + "legend", request.legend);
  const QString error = entry.write(request);
  if (error.isEmpty()) {
    Q_EMIT exported(request.path);
  } else {
    Q_EMIT failed(error);
  }
}

}  // namespace kvs::ui
