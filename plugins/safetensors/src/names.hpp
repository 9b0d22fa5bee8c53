// The file names and __metadata__ keys this plugin writes, in one place so reader, writer and probe agree.
#pragma once

#include <cstdint>
#include <string>

namespace st {

inline constexpr const char* kSingleFile = "model.safetensors";
inline constexpr const char* kIndexFile = "model.safetensors.index.json";

// __metadata__ keys (values are strings, as the spec requires). "format": "pt" is what transformers checks;
// the marker says Megaswift wrote the directory (probe 100); the common state JSON text lives in the first file.
inline constexpr const char* kMetaFormat = "format";
inline constexpr const char* kMetaMarker = "megaswift.format";
inline constexpr const char* kMarkerValue = "megaswift-safetensors-1";
inline constexpr const char* kMetaCommonState = "megaswift.common_state";
// Staging files of a multi-rank save: per piece, the global key, shape and offset (JSON text).
inline constexpr const char* kMetaPieces = "megaswift.pieces";

// HF's shard name: model-00001-of-00004.safetensors (i counts from 1).
std::string shard_file_name(size_t i, size_t n);
// The staging file one rank writes in a multi-rank save.
std::string rank_file_name(int32_t rank);

}  // namespace st
