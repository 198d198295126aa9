#pragma once
// The loaded model in one line for the status bar, short enough to share it with the run's
// statistics: "stories260K.bin: 260K params, 5 layers, context 512, tok512.model".

#include "model/model_config.h"

#include <QString>

namespace kvs::ui {

QString describeModel(const QString& path, const kvs::ModelConfig& config,
                      const QString& tokenizerPath);

}  // namespace kvs::ui
