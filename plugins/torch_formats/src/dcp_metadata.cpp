#include "dcp_metadata.hpp"

#include "pickle.hpp"
#include "region.hpp"
#include "torch_save.hpp"

#include <algorithm>
#include <map>

namespace torchfmt {

namespace {

constexpr const char* kMeta = "torch.distributed.checkpoint.metadata";

void size_obj(PickleWriter& w, const std::vector<int64_t>& v) {  // torch.Size((...))
  w.global("torch", "Size");
  w.int_tuple(v);
  w.tuple_n(1);
  w.reduce();
}

void dataclass_begin(PickleWriter& w, const char* module, const char* name) {
  w.global(module, name);
  w.empty_tuple();
  w.newobj();
}

void storage_info(PickleWriter& w, const DcpItem& it) {
  dataclass_begin(w, "torch.distributed.checkpoint.filesystem", "_StorageInfo");
  w.empty_dict();
  w.mark();
  w.str("relative_path");
  w.str(it.file);
  w.str("offset");
  w.integer(static_cast<int64_t>(it.offset));
  w.str("length");
  w.integer(static_cast<int64_t>(it.length));
  w.setitems();
  w.build();
}

void metadata_index(PickleWriter& w, const std::string& fqn, const std::vector<int64_t>* offsets, int64_t index) {
  dataclass_begin(w, kMeta, "MetadataIndex");
  w.empty_dict();
  w.mark();
  w.str("fqn");
  w.str(fqn);
  w.str("offset");
  if (offsets) size_obj(w, *offsets);
  else w.none();
  w.str("index");
  if (index >= 0) w.integer(index);
  else w.none();
  w.setitems();
  w.build();
}

}  // namespace

std::string write_dcp_metadata(const DcpMetadata& m) {
  PickleWriter w;
  dataclass_begin(w, kMeta, "Metadata");
  w.empty_dict();
  w.mark();
  w.str("state_dict_metadata");
  w.empty_dict();
  if (!m.tensors.empty() || !m.bytes.empty()) {
    w.mark();
    for (const DcpTensor& t : m.tensors) {
      w.str(t.key);
      dataclass_begin(w, kMeta, "TensorStorageMetadata");
      w.empty_dict();
      w.mark();
      w.str("properties");
      dataclass_begin(w, kMeta, "TensorProperties");
      w.mark();  // (dtype, layout, requires_grad, memory_format, pin_memory), consumed by __setstate__
      w.global("torch", torch_dtype_name(t.dtype));
      w.global("torch.serialization", "_get_layout");
      w.str("torch.strided");
      w.tuple_n(1);
      w.reduce();
      w.boolean(false);
      w.global(kMeta, "_MEM_FORMAT_ENCODING");
      w.integer(0);  // TORCH_CONTIGUOUS_FORMAT
      w.tuple_n(1);
      w.reduce();
      w.boolean(false);
      w.tuple_from_mark();
      w.build();
      w.str("size");
      size_obj(w, t.shape);
      w.str("chunks");
      w.empty_list();
      if (!t.chunks.empty()) {
        w.mark();
        for (const DcpChunk& c : t.chunks) {
          dataclass_begin(w, kMeta, "ChunkStorageMetadata");
          w.empty_dict();
          w.mark();
          w.str("offsets");
          size_obj(w, c.offsets);
          w.str("sizes");
          size_obj(w, c.sizes);
          w.setitems();
          w.build();
        }
        w.appends();
      }
      w.setitems();
      w.build();
    }
    for (const DcpBytes& b : m.bytes) {
      w.str(b.key);
      dataclass_begin(w, kMeta, "BytesStorageMetadata");
    }
    w.setitems();
  }
  w.str("planner_data");
  w.none();
  w.str("storage_data");
  w.empty_dict();
  if (!m.tensors.empty() || !m.bytes.empty()) {
    w.mark();
    for (const DcpTensor& t : m.tensors)
      for (size_t k = 0; k < t.chunks.size(); ++k) {
        metadata_index(w, t.key, &t.chunks[k].offsets, static_cast<int64_t>(k));
        storage_info(w, t.chunks[k].item);
      }
    for (const DcpBytes& b : m.bytes) {
      metadata_index(w, b.key, nullptr, -1);
      storage_info(w, b.item);
    }
    w.setitems();
  }
  w.setitems();
  w.build();
  w.stop();
  return w.take();
}

namespace {

std::string index_key(const std::string& fqn, const std::vector<int64_t>* offsets) {
  std::string k = fqn + '\0';
  if (offsets)
    for (int64_t o : *offsets) k += std::to_string(o) + ",";
  else k += "none";
  return k;
}

const PyValue* field(const PyValue* obj, const char* name, const std::string& what) {
  if (!obj || !obj->state || !obj->state->is(PyKind::Dict))
    throw Error(MSW_STATUS_IO, what + ": object has no field dict (expected " + name + ")");
  const PyValue* v = obj->state->get(name);
  if (!v) throw Error(MSW_STATUS_IO, what + ": field '" + name + "' is missing");
  return v;
}

bool safe_relative(const std::string& p) {
  if (p.empty() || p[0] == '/' || p.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= p.size()) {
    const size_t end = std::min(p.find('/', start), p.size());
    const std::string part = p.substr(start, end - start);
    if (part == ".." || part.empty()) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

DcpMetadata parse_dcp_metadata(const uint8_t* data, size_t size, const std::string& what) {
  Pickle p = parse_pickle(data, size, what);
  const PyValue* root = p.root();
  if (!root->is_object("torch.distributed.checkpoint.metadata.Metadata") &&
      !root->is_object("megatron.core.dist_checkpointing.strategies.torch.MCoreMetadata"))
    throw Error(MSW_STATUS_IO, what + ": the pickle's top object is not a DCP Metadata");
  const PyValue* sdm = field(root, "state_dict_metadata", what);
  const PyValue* sd = field(root, "storage_data", what);
  if (!sdm->is(PyKind::Dict) || !sd->is(PyKind::Dict))
    throw Error(MSW_STATUS_IO, what + ": state_dict_metadata and storage_data must be dicts");

  std::map<std::string, DcpItem> items;
  for (size_t k = 0; k + 1 < sd->items.size(); k += 2) {
    const PyValue* idx = sd->items[k];
    const PyValue* info = sd->items[k + 1];
    const std::string at = what + ": storage_data entry " + std::to_string(k / 2);
    if (!idx->is_object("torch.distributed.checkpoint.metadata.MetadataIndex"))
      throw Error(MSW_STATUS_IO, at + ": key is not a MetadataIndex");
    if (!info->is_object("torch.distributed.checkpoint.filesystem._StorageInfo"))
      throw Error(MSW_STATUS_IO, at + ": value is not a _StorageInfo");
    const std::string& fqn = as_str(field(idx, "fqn", at), at + " fqn");
    const PyValue* off = idx->state->get("offset");
    std::vector<int64_t> offsets;
    const bool has_off = off && !off->is(PyKind::None);
    if (has_off) offsets = as_int_vector(off, at + " offset");
    DcpItem it;
    it.file = as_str(field(info, "relative_path", at), at + " relative_path");
    if (!safe_relative(it.file))
      throw Error(MSW_STATUS_IO, at + ": relative_path '" + it.file + "' leaves the checkpoint directory");
    const int64_t o = as_int(field(info, "offset", at), at + " offset");
    const int64_t l = as_int(field(info, "length", at), at + " length");
    if (o < 0 || l < 0) throw Error(MSW_STATUS_IO, at + ": negative offset or length");
    if (const PyValue* td = info->state->get("transform_descriptors"))
      if (!td->is(PyKind::None) && !td->items.empty())
        throw Error(MSW_STATUS_UNSUPPORTED, at + ": item '" + fqn + "' has transform descriptors (compression "
                                                 "or encryption), which this reader does not implement");
    it.offset = static_cast<uint64_t>(o);
    it.length = static_cast<uint64_t>(l);
    items[index_key(fqn, has_off ? &offsets : nullptr)] = it;
  }

  DcpMetadata m;
  for (size_t k = 0; k + 1 < sdm->items.size(); k += 2) {
    const std::string& key = as_str(sdm->items[k], what + ": state_dict_metadata key");
    const PyValue* v = sdm->items[k + 1];
    const std::string at = what + ": '" + key + "'";
    if (v->is_object("torch.distributed.checkpoint.metadata.BytesStorageMetadata")) {
      auto it = items.find(index_key(key, nullptr));
      if (it == items.end()) throw Error(MSW_STATUS_IO, at + ": bytes item missing from storage_data");
      m.bytes.push_back({key, it->second});
      continue;
    }
    if (!v->is_object("torch.distributed.checkpoint.metadata.TensorStorageMetadata"))
      throw Error(MSW_STATUS_IO, at + ": storage metadata of class '" + v->s + "' is not known");
    DcpTensor t;
    t.key = key;
    const PyValue* props = field(v, "properties", at);
    const PyValue* dt = nullptr;
    if (props->state && props->state->is(PyKind::Tuple) && !props->state->items.empty()) dt = props->state->items[0];
    else if (props->state && props->state->is(PyKind::Dict)) dt = props->state->get("dtype");
    if (!dt || !dt->is(PyKind::Global)) throw Error(MSW_STATUS_IO, at + ": TensorProperties has no dtype");
    t.dtype = dtype_from_torch_name(dt->s);
    if (t.dtype < 0) throw Error(MSW_STATUS_UNSUPPORTED, at + ": dtype '" + dt->s + "' is not supported");
    t.shape = as_int_vector(field(v, "size", at), at + " size");
    if (t.shape.size() > MSW_MAX_DIMS) throw Error(MSW_STATUS_UNSUPPORTED, at + ": more than 8 dimensions");
    numel_checked(t.shape, at);
    const PyValue* chunks = field(v, "chunks", at);
    if (!chunks->is(PyKind::List)) throw Error(MSW_STATUS_IO, at + ": chunks is not a list");
    for (size_t c = 0; c < chunks->items.size(); ++c) {
      const PyValue* ch = chunks->items[c];
      const std::string cat = at + " chunk " + std::to_string(c);
      if (!ch->is_object("torch.distributed.checkpoint.metadata.ChunkStorageMetadata"))
        throw Error(MSW_STATUS_IO, cat + ": not a ChunkStorageMetadata");
      DcpChunk chunk;
      chunk.offsets = as_int_vector(field(ch, "offsets", cat), cat + " offsets");
      chunk.sizes = as_int_vector(field(ch, "sizes", cat), cat + " sizes");
      if (chunk.offsets.size() != t.shape.size() || chunk.sizes.size() != t.shape.size())
        throw Error(MSW_STATUS_IO, cat + ": offsets/sizes rank differs from the tensor's");
      for (size_t d = 0; d < t.shape.size(); ++d)
        if (chunk.offsets[d] < 0 || chunk.sizes[d] < 0 || chunk.offsets[d] > t.shape[d] ||
            chunk.sizes[d] > t.shape[d] - chunk.offsets[d])
          throw Error(MSW_STATUS_IO, cat + ": lies outside the tensor in dimension " + std::to_string(d));
      auto it = items.find(index_key(key, &chunk.offsets));
      if (it == items.end()) throw Error(MSW_STATUS_IO, cat + ": missing from storage_data");
      chunk.item = it->second;
      t.chunks.push_back(std::move(chunk));
    }
    m.tensors.push_back(std::move(t));
  }
  return m;
}

}  // namespace torchfmt
