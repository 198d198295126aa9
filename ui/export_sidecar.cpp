#include "export_sidecar.h"

#include <nlohmann/json.hpp>

#include <QDateTime>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include "kvs/version.h"

namespace kvs::ui {
namespace {

QJsonObject withoutVolatile(QJsonObject o) {
  o.remove("created");
  o.remove("files");
  return o;
}

}  // namespace

QJsonObject exportSidecar(const PromptInfo& prompt, const GenerationJob& job,
                          const CompressionParams& params, const QJsonObject& view) {
  QJsonObject o;
  o["app"] = "KV Studio";
  o["app_version"] = QString::fromUtf8(kvs::kVersion);
  o["created"] = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
  o["model"] = prompt.model;
  QJsonArray ids;
  for (int id : prompt.ids) ids.append(id);
  o["prompt_token_ids"] = ids;
  // The prompt the views show (the last run's, or an opened recording's), not the field's text,
  // which may have been edited since; the field's when nothing has run yet.
  o["prompt"] = prompt.ids.isEmpty() ? job.prompt : prompt.text;
  if (!prompt.recording.isEmpty()) o["recording"] = prompt.recording;
  o["new_tokens"] = job.newTokens;
  // The sampler's settings in one place, the seed a number as `kvstudio-cli generate --json`
  // writes it; "params" holds the compression's own parameters (CaM's "seed" is its Bernoulli
  // draws', not the sampler's).
  o["sampling"] = QJsonObject{{"seed", double(job.seed)},  // the app's seeds are below 2^31
                              {"temperature", job.temperature},
                              {"top_p", job.topP}};
  const std::string p = kvs::toJson(params).dump();
  o["params"] = QJsonDocument::fromJson(QByteArray::fromStdString(p)).object();
  o["view"] = view;
  return o;
}

QString writeSidecar(const QString& path, QJsonObject meta, const QJsonObject& file) {
  QJsonArray files;
  QFile existing(path);
  if (existing.open(QIODevice::ReadOnly)) {
    const QJsonObject old = QJsonDocument::fromJson(existing.readAll()).object();
    if (withoutVolatile(old) == withoutVolatile(meta)) {
      for (const QJsonValue& f : old["files"].toArray()) {
        if (f["file"] != file["file"]) files.append(f);
      }
    }
  }
  files.append(file);
  meta["files"] = files;
  const QByteArray bytes = QJsonDocument(meta).toJson();
  QSaveFile out(path);
  if (!out.open(QIODevice::WriteOnly) || out.write(bytes) != bytes.size() || !out.commit()) {
    return QObject::tr("cannot write %1: %2").arg(path, out.errorString());
  }
  return {};
}

}  // namespace kvs::ui
