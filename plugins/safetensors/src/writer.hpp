// Streams tensors into HF-layout safetensors files.
//
// Memory: a safetensors header must precede the data and list every tensor of its file, which is known only
// once the file is full. So each output shard is first written as a headerless staging file in the target
// directory (tensor bytes appended as they arrive, nothing kept in memory but their names and shapes); when the
// writer finishes, each final file gets its header and then the staged bytes, moved by copy_file_range (the
// kernel copies, or shares the extents on filesystems that can), reordered as the reference writer orders them
// (alignment descending, then name) so every tensor stays naturally aligned. A key that arrives as several
// shards is gathered in one buffer of its full size until every element came; that buffer is the only tensor
// data held. Resident memory is thus one tensor plus a copy buffer, whatever the model size.
#pragma once

#include "file_io.hpp"

#include <megaswift/c/tensor.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace st {

struct WriterConfig {
  std::string dir;
  uint64_t max_shard_size = UINT64_MAX;
  std::map<std::string, std::string> first_file_metadata;  // added to "__metadata__" of the first file
  // Multi-rank staging: every shard is stored as its own tensor with its place in the global tensor in
  // "__metadata__" (kMetaPieces), in one file named rank_file_name(rank); the coordinator merges them.
  bool staging = false;
  int32_t rank = 0;
};

class StreamingWriter {
 public:
  explicit StreamingWriter(WriterConfig cfg);
  ~StreamingWriter();  // removes staging files when finish() did not complete
  StreamingWriter(const StreamingWriter&) = delete;
  StreamingWriter& operator=(const StreamingWriter&) = delete;

  // One shard of `key`: `data` (CPU, dense) is the box at `offset` of a tensor of `global_shape`.
  void add(const std::string& key, const std::vector<int64_t>& global_shape, const std::vector<int64_t>& offset,
           const msw_tensor& data);
  // Writes headers and final files (and the index when there are several), fsyncs them and the directory.
  // Returns the names of the files written.
  std::vector<std::string> finish();

 private:
  struct Box {
    std::vector<int64_t> offset, shape;
  };
  struct Assembly {
    int32_t dtype;
    std::vector<int64_t> shape;
    std::vector<char> bytes;
    uint64_t covered = 0, numel = 0;
    std::vector<Box> boxes;
  };
  struct PartTensor {
    std::string name;
    int32_t dtype;
    std::vector<int64_t> shape;
    uint64_t staged_at, nbytes;
  };
  struct Part {
    std::string staging_path;
    Fd fd;
    std::vector<PartTensor> tensors;
    uint64_t bytes = 0;
  };

  void append(const std::string& name, int32_t dtype, const std::vector<int64_t>& shape, const void* data,
              uint64_t nbytes);
  void write_final(Part& part, const std::string& file_name, const std::map<std::string, std::string>& metadata);

  WriterConfig cfg_;
  std::vector<Part> parts_;
  std::unordered_map<std::string, Assembly> pending_;
  std::set<std::string> done_;
  std::string pieces_json_ = "[";  // staging mode: [{"tensor", "key", "global_shape", "global_offset"}, ...]
  size_t piece_count_ = 0;
  bool finished_ = false;
};

// The coordinator's step of a multi-rank save: reads every rank's staging file (validated like any input),
// assembles each key from its pieces and writes the final files with `final_cfg`, then removes the staging
// files. Memory: one piece plus one assembled tensor.
std::vector<std::string> merge_rank_files(const std::string& dir, int32_t world_size, WriterConfig final_cfg);

// The header JSON for the given entries (in file order) and metadata, padded with spaces to a multiple of 8.
struct HeaderEntry {
  std::string name;
  int32_t dtype;
  std::vector<int64_t> shape;
  uint64_t begin, end;
};
std::string build_header(const std::map<std::string, std::string>& metadata, const std::vector<HeaderEntry>& entries);

}  // namespace st
