#pragma once
// A PrefillState rebuilt from a recording (core/io/hdf5_schema.md), so that what the views show of
// a live prompt (similarity matrices, overview, merging layouts from the keys) works without the
// model. Only the prompt's P positions are used, as a live prefill holds.
//
// What the file lacks stays empty or zero: keysPreRope without --record-keys-prerope, attention
// without --record-attention (the cells' accumulated attention, which H2O and KVMerger's
// protected tokens use, is then zero), values are zeros without --record-values. `recorded`
// says which; the caller turns a missing source into a message.

#include "io/recording_reader.h"
#include "model/model_config.h"
#include "session/prefill_state.h"

namespace kvs {

struct RecordedPrefill {
  PrefillState state;  // lastLogits undefined: nothing can be decoded without the model
  ModelConfig config;  // the recorded model's, from /meta
  // In the file (state.attention may still be empty: over the limit).
  bool hasKeysPreRope = false, hasValues = false, hasAttention = false;
};

// The model configuration in /meta; KvsError when it is missing or disagrees with the datasets.
ModelConfig recordedConfig(const RecordingInfo& info);

// KvsError when the prompt's states are not all in the file (stopped during the prefill) or the
// file is unreadable; keepGoing is asked once per layer (false throws KvsError "cancelled").
// Recorded attention always feeds the accumulated attention; the [Hq, P, P] matrices are kept in
// state.attention only when all layers' take at most attentionLimitBytes, as in prefillPrompt.
RecordedPrefill prefillFromRecording(const RecordingReader& reader, const KeepGoing& keepGoing = {},
                                     int64_t attentionLimitBytes = int64_t(256) << 20);

}  // namespace kvs
