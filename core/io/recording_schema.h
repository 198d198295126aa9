#pragma once
// Names in a KV Studio recording (HDF5). The layout is documented for users in
// core/io/hdf5_schema.md; change both together and bump kFormatVersion when it changes.

namespace kvs::schema {

constexpr const char* kFormatName = "kvstudio-recording";
constexpr int kFormatVersion = 1;

// Attributes of the root group.
constexpr const char* kFormatAttr = "format";
constexpr const char* kVersionAttr = "format_version";
constexpr const char* kCompleteAttr = "complete";  // 0 while recording, 1 once finished

constexpr const char* kMetaGroup = "meta";
constexpr const char* kTokenIds = "token_ids";        // /meta/token_ids [T or T+1]
constexpr const char* kTokenPieces = "token_pieces";  // /meta/token_pieces

constexpr const char* kLayersGroup = "layers";  // /layers/layer_00/keys ...
constexpr const char* kKeys = "keys";
constexpr const char* kKeysPrerope = "keys_prerope";
constexpr const char* kValues = "values";
constexpr const char* kAttention = "attention";

constexpr const char* kVariantsGroup = "variants";  // /variants/<name>/...
constexpr const char* kSlotsGroup = "slots";        // /variants/<name>/slots/{layer,head,...}
constexpr const char* kGeneratedIds = "generated_ids";

}  // namespace kvs::schema
