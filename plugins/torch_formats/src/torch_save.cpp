#include "torch_save.hpp"

#include <random>

namespace torchfmt {

namespace {
struct DtypeNames {
  int32_t dtype;
  const char* name;
  const char* storage;
};
constexpr DtypeNames kDtypes[] = {
    {MSW_DTYPE_F32, "float32", "FloatStorage"},   {MSW_DTYPE_F16, "float16", "HalfStorage"},
    {MSW_DTYPE_BF16, "bfloat16", "BFloat16Storage"}, {MSW_DTYPE_F64, "float64", "DoubleStorage"},
    {MSW_DTYPE_I8, "int8", "CharStorage"},        {MSW_DTYPE_U8, "uint8", "ByteStorage"},
    {MSW_DTYPE_I32, "int32", "IntStorage"},       {MSW_DTYPE_I64, "int64", "LongStorage"},
    {MSW_DTYPE_BOOL, "bool", "BoolStorage"},      {MSW_DTYPE_F8_E4M3, "float8_e4m3fn", "Float8_e4m3fnStorage"},
    {MSW_DTYPE_F8_E5M2, "float8_e5m2", "Float8_e5m2Storage"},
};
const DtypeNames& names_of(int32_t dtype) {
  for (const auto& d : kDtypes)
    if (d.dtype == dtype) return d;
  throw Error(MSW_STATUS_UNSUPPORTED, "dtype code " + std::to_string(dtype) + " has no torch storage type");
}
}  // namespace

const char* torch_dtype_name(int32_t dtype) { return names_of(dtype).name; }
const char* torch_storage_class(int32_t dtype) { return names_of(dtype).storage; }

int32_t dtype_from_torch_name(std::string_view path) {
  for (const auto& d : kDtypes)
    if (path == std::string("torch.") + d.name) return d.dtype;
  if (path == "torch.float") return MSW_DTYPE_F32;
  if (path == "torch.half") return MSW_DTYPE_F16;
  if (path == "torch.long") return MSW_DTYPE_I64;
  return -1;
}

int32_t dtype_from_storage_class(std::string_view path) {
  for (const auto& d : kDtypes)
    if (path == std::string("torch.") + d.storage) return d.dtype;
  if (path == "torch.UntypedStorage") return MSW_DTYPE_U8;
  return -1;
}

void pickle_tensor(PickleWriter& w, int32_t dtype, const std::vector<int64_t>& shape, const std::string& key) {
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  std::vector<int64_t> strides(shape.size());
  int64_t st = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    strides[d] = st;
    st *= shape[d];
  }
  w.global("torch._utils", "_rebuild_tensor_v2");
  w.mark();
  w.mark();  // persistent id ('storage', StorageClass, key, 'cpu', numel)
  w.str("storage");
  w.global("torch", torch_storage_class(dtype));
  w.str(key);
  w.str("cpu");
  w.integer(numel);
  w.tuple_from_mark();
  w.binpersid();
  w.integer(0);  // storage offset
  w.int_tuple(shape);
  w.int_tuple(strides);
  w.boolean(false);  // requires_grad
  w.global("collections", "OrderedDict");
  w.empty_tuple();
  w.reduce();  // backward hooks
  w.tuple_from_mark();
  w.reduce();
}

void write_archive_head(ZipWriter& z, const std::string& folder, const std::string& pickle) {
  z.add(folder + "/data.pkl", pickle);
  z.add(folder + "/.format_version", std::string_view("1"));
  z.add(folder + "/.storage_alignment", std::string_view("64"));
  z.add(folder + "/byteorder", std::string_view("little"));
}

void write_archive_tail(ZipWriter& z, const std::string& folder) {
  z.add(folder + "/version", std::string_view("3\n"));
  // torch writes 40 decimal digits identifying the save; any digits will do.
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  std::string id;
  for (int k = 0; k < 40; ++k) id.push_back(static_cast<char>('0' + gen() % 10));
  z.add(folder + "/.data/serialization_id", id);
  z.finish();
}

void write_torch_archive(OutFile& out, const std::string& folder, const std::string& pickle,
                         const std::vector<StorageBytes>& storages) {
  ZipWriter z(out);
  write_archive_head(z, folder, pickle);
  for (size_t i = 0; i < storages.size(); ++i)
    z.add(folder + "/data/" + std::to_string(i), storages[i].data, storages[i].size);
  write_archive_tail(z, folder);
}

TorchArchive::TorchArchive(const uint8_t* base, size_t size, const std::string& what)
    : what_(what), zip_(base, size, what) {
  if (zip_.records().empty()) throw Error(MSW_STATUS_IO, what + ": the torch.save archive has no records");
  const std::string& first = zip_.records().front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos)
    throw Error(MSW_STATUS_IO, what + ": record '" + first + "' is not inside an archive folder");
  folder_ = first.substr(0, slash);
  for (const ZipRecord& r : zip_.records())
    if (r.name.compare(0, folder_.size() + 1, folder_ + "/") != 0)
      throw Error(MSW_STATUS_IO, what + ": record '" + r.name + "' is outside the archive folder '" + folder_ + "'");
  const ZipRecord* version = zip_.find(folder_ + "/version");
  if (!version) version = zip_.find(folder_ + "/.data/version");
  if (!version) throw Error(MSW_STATUS_IO, what + ": the torch.save archive has no 'version' record");
  zip_.verify_crc(*version);
  const std::string v(zip_.data(*version));
  if (v.empty() || v.size() > 8 || v.find_first_not_of("0123456789\n") != std::string::npos)
    throw Error(MSW_STATUS_IO, what + ": unreadable archive version '" + v + "'");
  const int64_t ver = std::stoll(v);
  if (ver < 1 || ver > 10)
    throw Error(MSW_STATUS_VERSION_MISMATCH, what + ": archive format version " + std::to_string(ver) +
                                                 " is outside the supported 1..10");
  if (const ZipRecord* bo = zip_.find(folder_ + "/byteorder")) {
    if (zip_.data(*bo) != "little")
      throw Error(MSW_STATUS_UNSUPPORTED, what + ": byteorder '" + std::string(zip_.data(*bo)) +
                                              "'; only little-endian archives are read");
  }
  const ZipRecord* pkl = zip_.find(folder_ + "/data.pkl");
  if (!pkl) throw Error(MSW_STATUS_IO, what + ": the torch.save archive has no data.pkl");
  zip_.verify_crc(*pkl);
  const std::string_view p = zip_.data(*pkl);
  pickle_ = parse_pickle(reinterpret_cast<const uint8_t*>(p.data()), p.size(), what + " (data.pkl)");
}

bool TorchArchive::is_tensor(const PyValue* v) {
  return v && (v->is_object("torch._utils._rebuild_tensor_v2") || v->is_object("torch._utils._rebuild_parameter"));
}

TensorRef TorchArchive::tensor(const PyValue* v) const {
  if (v && v->is_object("torch._utils._rebuild_parameter")) {  // (tensor, requires_grad, hooks)
    if (!v->args || v->args->items.empty()) throw Error(MSW_STATUS_IO, what_ + ": _rebuild_parameter without a tensor");
    v = v->args->items[0];
  }
  if (!v || !v->is_object("torch._utils._rebuild_tensor_v2"))
    throw Error(MSW_STATUS_IO, what_ + ": expected a tensor (_rebuild_tensor_v2)");
  const std::string at = what_ + ": tensor at pickle byte " + std::to_string(v->offset);
  const auto& a = v->args->items;
  if (a.size() < 6) throw Error(MSW_STATUS_IO, at + ": _rebuild_tensor_v2 needs 6 arguments, got " + std::to_string(a.size()));
  const PyValue* pid = a[0];
  if (!pid->is(PyKind::PersId) || !pid->items[0]->is(PyKind::Tuple) || pid->items[0]->items.size() != 5)
    throw Error(MSW_STATUS_IO, at + ": storage is not a persistent id ('storage', class, key, location, numel)");
  const auto& id = pid->items[0]->items;
  if (as_str(id[0], at) != "storage") throw Error(MSW_STATUS_IO, at + ": persistent id kind is not 'storage'");
  if (!id[1]->is(PyKind::Global)) throw Error(MSW_STATUS_IO, at + ": storage type is not a class");
  const int32_t dtype = dtype_from_storage_class(id[1]->s);
  if (dtype < 0) throw Error(MSW_STATUS_UNSUPPORTED, at + ": storage class '" + id[1]->s + "' is not supported");
  const std::string& key = as_str(id[2], at + " storage key");
  const int64_t numel = as_int(id[4], at + " storage numel");
  const int64_t offset = as_int(a[1], at + " storage offset");
  TensorRef t;
  t.dtype = dtype;
  t.shape = as_int_vector(a[2], at + " size");
  t.strides = as_int_vector(a[3], at + " stride");
  if (t.shape.size() != t.strides.size() || t.shape.size() > MSW_MAX_DIMS)
    throw Error(MSW_STATUS_IO, at + ": size and stride disagree or have more than 8 dimensions");
  const ZipRecord* rec = zip_.find(folder_ + "/data/" + key);
  if (!rec) throw Error(MSW_STATUS_IO, at + ": storage record 'data/" + key + "' is missing");
  const uint64_t isz = msw_dtype_size(dtype);
  if (numel < 0 || static_cast<uint64_t>(numel) > rec->size / isz || rec->size != static_cast<uint64_t>(numel) * isz)
    throw Error(MSW_STATUS_IO, at + ": storage 'data/" + key + "' holds " + std::to_string(rec->size) +
                                   " bytes, not " + std::to_string(numel) + " elements of " + std::to_string(isz));
  // The furthest element reached must lie inside the storage (empty tensors reach nothing).
  int64_t last = offset;
  bool empty = false;
  for (size_t d = 0; d < t.shape.size(); ++d) {
    if (t.shape[d] < 0 || t.strides[d] < 0) throw Error(MSW_STATUS_IO, at + ": negative size or stride");
    if (t.shape[d] == 0) empty = true;
    else if (t.strides[d] > 0 && (t.shape[d] - 1) > (INT64_MAX - last) / t.strides[d])
      throw Error(MSW_STATUS_IO, at + ": size and stride overflow");
    else last += (t.shape[d] - 1) * t.strides[d];
  }
  if (offset < 0 || offset > numel || (!empty && last >= numel))
    throw Error(MSW_STATUS_IO, at + ": elements up to " + std::to_string(last) + " lie outside its storage of " +
                                   std::to_string(numel));
  t.data = reinterpret_cast<const uint8_t*>(zip_.data(*rec).data()) + offset * isz;
  return t;
}

}  // namespace torchfmt
