#include "export_sidecar.h"

#include <nlohmann/json.hpp>

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>

#include "kvs/version.h"

namespace kvs::ui {

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
  o["prompt"] = job.prompt;
  o["steps"] = job.steps;
  o["temperature"] = job.temperature;
  o["top_p"] = job.topP;
  o["seed"] = QString::number(job.seed);  // 64-bit: a string keeps every digit
  const std::string p = kvs::toJson(params).dump();
  o["params"] = QJsonDocument::fromJson(QByteArray::fromStdString(p)).object();
  o["view"] = view;
  return o;
}

}  // namespace kvs::ui
