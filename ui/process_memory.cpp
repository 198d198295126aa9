#include "process_memory.h"

#include <unistd.h>
#include <QFile>
#include <QList>

namespace kvs::ui {

qint64 residentBytes() {
  QFile statm(QStringLiteral("/proc/self/statm"));
  if (!statm.open(QIODevice::ReadOnly)) return 0;
  const QList<QByteArray> fields = statm.readAll().split(' ');  // size resident shared ...
  if (fields.size() < 2) return 0;
  return fields[1].toLongLong() * sysconf(_SC_PAGESIZE);
}

}  // namespace kvs::ui
