#pragma once
// The JSON sidecar of an exported figure: everything needed to make it again.

#include "session_types.h"

#include <QJsonObject>

#include "generation_job.h"

namespace kvs::ui {

// view: what the panel shows (layer, head, source, ranges, ...).
QJsonObject exportSidecar(const PromptInfo& prompt, const GenerationJob& job,
                          const kvs::CompressionParams& params, const QJsonObject& view);

}  // namespace kvs::ui
