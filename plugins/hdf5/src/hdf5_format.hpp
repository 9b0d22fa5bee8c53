// The `hdf5` checkpoint format (the design card's HDF5), readable by h5py.
//
//   <dir>/rank_<r>.h5            one file per saving rank:
//       /tensors/<key>/shard_<o0>_<o1>...   one dataset per shard (the shard's shape), attributes
//                                           key (str), global_shape (int64[]), global_offset (int64[]),
//                                           dtype (str: "float32", "bfloat16", ...)
//       /common_state_json       the coordinator's file only: the common state JSON, a UTF-8 str
//       root attributes          format = "megaswift-hdf5", format_version = 1, rank
//   <dir>/hdf5_index.json        written by the coordinator in commit_save: for every key its dtype,
//                                global shape and shards (file, dataset, offset, shape), and where the
//                                common state is
//
// Stored types: float32/float64 as IEEE little-endian, float16 as h5py's half type (h5py reads it as
// numpy float16), bfloat16 as uint16 (the bf16 bits) with dtype "bfloat16", bool and fp8 as uint8 with
// their dtype names, integers as themselves. The "dtype" attribute is the logical type; the stored type
// must agree with it in class and size.
//
// Saving needs no collective: every rank writes its own file; commit_save on the coordinator, after the
// host's barrier, opens every rank_*.h5 in the directory (which every rank sees, as the host's rename
// requires), checks that the shards of each key agree on dtype and global shape, do not overlap and cover
// the tensor, and writes the index. A reader uses the index; without one (files written by h5py in this
// layout) it scans every *.h5 file the same way.
//
// Writes are synchronous whatever args.async says: finish_save flushes, closes and fsyncs the rank file.
// libhdf5's own error printing is off inside every entry (h5.hpp); its messages end up in ours.
#pragma once

#include "h5.hpp"

#include <megaswift/sdk/checkpoint.hpp>

#include <map>

namespace megaswift::hdf5 {

inline constexpr const char* kIndexFile = "hdf5_index.json";
inline constexpr const char* kFormatName = "megaswift-hdf5";
inline constexpr const char* kCommonDataset = "common_state_json";
inline constexpr const char* kTensorsGroup = "tensors";

struct ShardRef {
  std::string file;     // relative to the checkpoint directory
  std::string dataset;  // absolute path inside the file
  Dims offset, shape;
};

struct TensorEntry {
  int32_t dtype = MSW_DTYPE_F32;
  Dims global_shape;
  std::vector<ShardRef> shards;
};

struct Index {
  std::map<std::string, TensorEntry> tensors;
  std::string common_file;  // empty when no file holds the common state
};

// Every *.h5 file of `dir` read into an index, validated (index.cpp).
Index scan_files(const std::string& dir);
// The metadata reads of a checkpoint (scan_files and the common state) done first by libhdf5 in a child process
// that must finish within `limit_seconds`: a file that makes libhdf5 loop or crash is refused as damaged instead
// of hanging or killing the caller (isolated_scan.cpp). Returns when the reads finish, with or without an error
// of ours (the caller's own scan reports that one).
inline constexpr double kIsolatedScanSeconds = 60.0;
void isolated_scan(const std::string& dir, double limit_seconds = kIsolatedScanSeconds);
// Checks that the shards of every tensor agree, lie inside it, do not overlap and cover it.
void check_index(const Index& index, const std::string& where);
std::string index_json(const Index& index);
Index parse_index(const std::string& text, const std::string& path);

class Hdf5Format : public sdk::CheckpointFormat {
 public:
  explicit Hdf5Format(std::string_view config_json);
  int32_t probe(const std::string& dir) override;
  std::unique_ptr<sdk::CheckpointWriter> begin_save(const sdk::SaveArgs& args) override;
  void commit_save(const sdk::SaveArgs& args) override;
  std::unique_ptr<sdk::CheckpointReader> open(const sdk::OpenArgs& args) override;
};

std::unique_ptr<sdk::CheckpointWriter> make_writer(const sdk::SaveArgs& args);
std::unique_ptr<sdk::CheckpointReader> make_reader(const sdk::OpenArgs& args);

}  // namespace megaswift::hdf5
