#pragma once
// The JSON sidecar of an exported figure: everything needed to make it again, and every file
// written of it.

#include "session_types.h"

#include <QJsonObject>

#include "generation_job.h"

namespace kvs::ui {

// view: what the panel shows (layer, head, source, ranges, ...).
QJsonObject exportSidecar(const PromptInfo& prompt, const GenerationJob& job,
                          const kvs::CompressionParams& params, const QJsonObject& view);

// Writes meta to path with file (one written figure: name, format, size) in its "files". When
// path already describes the same figure (everything but "created" and "files" equal: the same
// base name exported in another format or size), the files listed there stay listed (a file of
// the same name is replaced); otherwise the sidecar starts again. Returns an empty string or the
// error.
QString writeSidecar(const QString& path, QJsonObject meta, const QJsonObject& file);

}  // namespace kvs::ui
