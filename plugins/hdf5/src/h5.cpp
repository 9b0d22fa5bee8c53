#include "h5.hpp"

#include <megaswift/sdk/tensor.hpp>

#include <algorithm>
#include <cstring>

namespace megaswift::hdf5 {

using sdk::Error;

Silence::Silence() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}
Silence::~Silence() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

namespace {

herr_t innermost(unsigned, const H5E_error2_t* e, void* data) {
  if (e && e->desc && *e->desc) *static_cast<std::string*>(data) = e->desc;
  return 0;
}

Handle checked(hid_t id, herr_t (*close)(hid_t), const std::string& what) {
  if (id < 0) fail(MSW_STATUS_IO, what);
  return Handle(id, close);
}

}  // namespace

void fail(msw_status_code code, const std::string& what) {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  throw Error(code, detail.empty() ? what : what + " (HDF5: " + detail + ")");
}

Handle check_file(hid_t id, const std::string& what) { return checked(id, H5Fclose, what); }
Handle check_group(hid_t id, const std::string& what) { return checked(id, H5Gclose, what); }
Handle check_dataset(hid_t id, const std::string& what) { return checked(id, H5Dclose, what); }
Handle check_space(hid_t id, const std::string& what) { return checked(id, H5Sclose, what); }
Handle check_type(hid_t id, const std::string& what) { return checked(id, H5Tclose, what); }
Handle check_attr(hid_t id, const std::string& what) { return checked(id, H5Aclose, what); }
Handle check_plist(hid_t id, const std::string& what) { return checked(id, H5Pclose, what); }

Handle open_file_readonly(const std::string& path, const std::string& what) {
  Handle fapl = check_plist(H5Pcreate(H5P_FILE_ACCESS), what);
  check_call(H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG), what);
  return check_file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()), what);
}

namespace {

// h5py's float16: IEEE half built from the f32 type, little-endian.
Handle half_type() {
  Handle t = check_type(H5Tcopy(H5T_IEEE_F32LE), "copying an HDF5 float type");
  check_call(H5Tset_fields(t.get(), 15, 10, 5, 0, 10), "defining the HDF5 float16 type");
  check_call(H5Tset_size(t.get(), 2), "defining the HDF5 float16 type");
  check_call(H5Tset_ebias(t.get(), 15), "defining the HDF5 float16 type");
  return t;
}

Handle copy(hid_t predefined) { return check_type(H5Tcopy(predefined), "copying an HDF5 type"); }

}  // namespace

Handle file_type(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: return copy(H5T_IEEE_F32LE);
    case MSW_DTYPE_F64: return copy(H5T_IEEE_F64LE);
    case MSW_DTYPE_F16: return half_type();
    case MSW_DTYPE_BF16: return copy(H5T_STD_U16LE);
    case MSW_DTYPE_I8: return copy(H5T_STD_I8LE);
    case MSW_DTYPE_I32: return copy(H5T_STD_I32LE);
    case MSW_DTYPE_I64: return copy(H5T_STD_I64LE);
    case MSW_DTYPE_U8: case MSW_DTYPE_BOOL: case MSW_DTYPE_F8_E4M3: case MSW_DTYPE_F8_E5M2: return copy(H5T_STD_U8LE);
    default: throw Error(MSW_STATUS_UNSUPPORTED, "hdf5: dtype code " + std::to_string(dtype) + " is unknown");
  }
}

Handle memory_type(int32_t dtype) {
  // x86-64 and aarch64 hosts are little-endian, so the file types above are also the memory types; HDF5
  // converts a big-endian file written elsewhere.
  return file_type(dtype);
}

void check_stored_type(hid_t type, int32_t dtype, const std::string& where) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  const bool want_float = dtype == MSW_DTYPE_F32 || dtype == MSW_DTYPE_F64 || dtype == MSW_DTYPE_F16;
  bool ok = size == msw_dtype_size(dtype);
  if (want_float) ok = ok && cls == H5T_FLOAT;
  else ok = ok && cls == H5T_INTEGER;
  if (ok && (dtype == MSW_DTYPE_I8 || dtype == MSW_DTYPE_I32 || dtype == MSW_DTYPE_I64))
    ok = H5Tget_sign(type) == H5T_SGN_2;
  if (!ok) {
    const char* got = cls == H5T_FLOAT ? "a float" : cls == H5T_INTEGER ? "an integer" : cls == H5T_STRING ? "a string"
                                                                                                       : "a non-numeric";
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": the dataset holds " + got + " type of " + std::to_string(size) +
                                                 " bytes, which cannot hold its \"dtype\" attribute " +
                                                 sdk::dtype_name(dtype) +
                                                 (dtype == MSW_DTYPE_BF16 ? " (bfloat16 is stored as uint16)" : ""));
  }
}

int32_t dtype_from_name(const std::string& name) {
  for (int32_t d = MSW_DTYPE_F32; d <= MSW_DTYPE_F8_E5M2; ++d)
    if (name == sdk::dtype_name(d)) return d;
  return -1;
}

namespace {

Handle vlen_string_type() {
  Handle t = check_type(H5Tcopy(H5T_C_S1), "copying the HDF5 string type");
  check_call(H5Tset_size(t.get(), H5T_VARIABLE), "defining a variable-length string type");
  check_call(H5Tset_cset(t.get(), H5T_CSET_UTF8), "defining a UTF-8 string type");
  return t;
}

// Reads a string from an attribute or dataset whose type is `type` and space `space`.
template <class ReadFn>
std::string read_string(hid_t type, hid_t space, const std::string& what, ReadFn&& read) {
  if (H5Tget_class(type) != H5T_STRING)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " is not a string");
  if (H5Sget_simple_extent_npoints(space) != 1)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " holds " + std::to_string(H5Sget_simple_extent_npoints(space)) +
                                                 " strings, expected one");
  if (H5Tis_variable_str(type) > 0) {
    Handle mem = vlen_string_type();
    char* p = nullptr;
    check_call(read(mem.get(), &p), "reading " + what);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const size_t n = H5Tget_size(type);
  Handle mem = check_type(H5Tcopy(H5T_C_S1), "copying the HDF5 string type");
  check_call(H5Tset_size(mem.get(), n), "defining a string type");
  std::string s(n, '\0');
  check_call(read(mem.get(), s.data()), "reading " + what);
  s.resize(std::strlen(s.c_str()));  // fixed-length strings are NUL- or space-padded
  return s;
}

}  // namespace

void write_string_attr(hid_t obj, const char* name, const std::string& value, const std::string& where) {
  Handle type = vlen_string_type();
  Handle space = check_space(H5Screate(H5S_SCALAR), "creating a dataspace");
  Handle attr = check_attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           "creating the attribute " + std::string(name) + " of " + where);
  const char* p = value.c_str();
  check_call(H5Awrite(attr.get(), type.get(), &p), "writing the attribute " + std::string(name) + " of " + where);
}

void write_i64_attr(hid_t obj, const char* name, const Dims& values, const std::string& where) {
  // An empty list (a 0-d tensor's shape) is a zero-length array, as h5py writes np.array([]).
  const hsize_t n = values.size();
  Handle space = check_space(H5Screate_simple(1, &n, nullptr), "creating a dataspace");
  Handle attr = check_attr(H5Acreate2(obj, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                           "creating the attribute " + std::string(name) + " of " + where);
  if (n) check_call(H5Awrite(attr.get(), H5T_NATIVE_INT64, values.data()), "writing the attribute " + std::string(name));
}

bool has_attr(hid_t obj, const char* name) { return H5Aexists(obj, name) > 0; }

namespace {
Handle open_attr(hid_t obj, const char* name, const std::string& where) {
  if (H5Aexists(obj, name) <= 0)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + " has no attribute \"" + name + "\"");
  return check_attr(H5Aopen(obj, name, H5P_DEFAULT), "opening the attribute " + std::string(name) + " of " + where);
}
}  // namespace

std::string read_string_attr(hid_t obj, const char* name, const std::string& where) {
  Handle attr = open_attr(obj, name, where);
  Handle type = check_type(H5Aget_type(attr.get()), "reading the type of an attribute");
  Handle space = check_space(H5Aget_space(attr.get()), "reading the dataspace of an attribute");
  return read_string(type.get(), space.get(), where + ": attribute \"" + name + "\"",
                     [&](hid_t mem, void* buf) { return H5Aread(attr.get(), mem, buf); });
}

Dims read_i64_attr(hid_t obj, const char* name, const std::string& where) {
  Handle attr = open_attr(obj, name, where);
  Handle type = check_type(H5Aget_type(attr.get()), "reading the type of an attribute");
  if (H5Tget_class(type.get()) != H5T_INTEGER)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": attribute \"" + name +
                                                 "\" must be a list of integers, but its type is not an integer type");
  Handle space = check_space(H5Aget_space(attr.get()), "reading the dataspace of an attribute");
  const H5S_class_t cls = H5Sget_simple_extent_type(space.get());
  if (cls == H5S_NULL) return {};
  if (cls == H5S_SIMPLE && H5Sget_simple_extent_ndims(space.get()) != 1)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": attribute \"" + name + "\" must be one-dimensional");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || n > MSW_MAX_DIMS)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, where + ": attribute \"" + name + "\" has " + std::to_string(n) +
                                                 " entries; at most " + std::to_string(MSW_MAX_DIMS) + " dimensions");
  Dims v(static_cast<size_t>(n));
  if (n) check_call(H5Aread(attr.get(), H5T_NATIVE_INT64, v.data()), "reading the attribute " + std::string(name) + " of " + where);
  return v;
}

void write_string_dataset(hid_t loc, const char* name, const std::string& value, const std::string& where) {
  Handle type = vlen_string_type();
  Handle space = check_space(H5Screate(H5S_SCALAR), "creating a dataspace");
  Handle dset = check_dataset(H5Dcreate2(loc, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              "creating the dataset " + std::string(name) + " in " + where);
  const char* p = value.c_str();
  check_call(H5Dwrite(dset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p),
             "writing the dataset " + std::string(name) + " in " + where);
}

std::string read_string_dataset(hid_t loc, const char* name, const std::string& where) {
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
    throw Error(MSW_STATUS_NOT_FOUND, where + " has no dataset " + name);
  Handle dset = check_dataset(H5Dopen2(loc, name, H5P_DEFAULT), "opening the dataset " + std::string(name) + " in " + where);
  Handle type = check_type(H5Dget_type(dset.get()), "reading a dataset type");
  Handle space = check_space(H5Dget_space(dset.get()), "reading a dataset space");
  return read_string(type.get(), space.get(), where + ": dataset " + name, [&](hid_t mem, void* buf) {
    return H5Dread(dset.get(), mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  });
}

Dims dataset_dims(hid_t dset, const std::string& where) {
  Handle space = check_space(H5Dget_space(dset), "reading the dataspace of " + where);
  const H5S_class_t cls = H5Sget_simple_extent_type(space.get());
  if (cls == H5S_SCALAR) return {};
  if (cls != H5S_SIMPLE) throw Error(MSW_STATUS_INVALID_ARGUMENT, where + " has an empty (null) dataspace");
  const int nd = H5Sget_simple_extent_ndims(space.get());
  if (nd < 0 || nd > MSW_MAX_DIMS)
    throw Error(MSW_STATUS_UNSUPPORTED, where + " has " + std::to_string(nd) + " dimensions; at most " +
                                            std::to_string(MSW_MAX_DIMS) + " are supported");
  std::vector<hsize_t> dims(static_cast<size_t>(nd));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return Dims(dims.begin(), dims.end());
}

std::vector<std::string> member_names(hid_t group, const std::string& where) {
  H5G_info_t info{};
  check_call(H5Gget_info(group, &info), "listing " + where);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t n = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) fail(MSW_STATUS_IO, "listing " + where);
    std::string name(static_cast<size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(n));
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace megaswift::hdf5
