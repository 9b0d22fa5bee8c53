// DCP's pickled .metadata (formats.md 1.3, 1.4): writing the protocol-2 shapes torch loads, and reading
// what torch / Megatron wrote (protocol 2-5, Metadata or MCoreMetadata) into plain structs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace torchfmt {

struct DcpItem {  // where a stored item lives (_StorageInfo)
  std::string file;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct DcpChunk {
  std::vector<int64_t> offsets, sizes;
  DcpItem item;
};

struct DcpTensor {
  std::string key;
  int32_t dtype = 0;
  std::vector<int64_t> shape;
  std::vector<DcpChunk> chunks;
};

struct DcpBytes {
  std::string key;
  DcpItem item;
};

struct DcpMetadata {
  std::vector<DcpTensor> tensors;
  std::vector<DcpBytes> bytes;
};

std::string write_dcp_metadata(const DcpMetadata& m);

// Parses and validates: known dtypes, shapes whose element counts fit, chunks inside their tensor, every
// chunk found in storage_data, relative paths that stay inside the checkpoint directory.
DcpMetadata parse_dcp_metadata(const uint8_t* data, size_t size, const std::string& what);

}  // namespace torchfmt
