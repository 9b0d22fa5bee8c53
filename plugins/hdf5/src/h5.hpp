// Thin RAII and error handling over libhdf5's C API (Debian libhdf5, 1.10+).
//
// HDF5 prints its error stack to stderr by default. Every plugin entry that touches HDF5 holds a
// Silence object, which turns that printing off for its duration (and restores the caller's setting);
// a failed call becomes an sdk::Error with our message plus the innermost HDF5 description.
#pragma once

#include <megaswift/ckpt/box.hpp>

#include <hdf5.h>

#include <string>
#include <utility>
#include <vector>

namespace megaswift::hdf5 {

using ckpt::Dims;

class Silence {
 public:
  Silence();
  ~Silence();
  Silence(const Silence&) = delete;
  Silence& operator=(const Silence&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// Throws sdk::Error(code, what + ": " + the innermost HDF5 message) and clears the HDF5 error stack.
[[noreturn]] void fail(msw_status_code code, const std::string& what);

// An hid_t closed with the right H5*close on scope exit.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, -1);
      close_ = o.close_;
    }
    return *this;
  }
  ~Handle() { reset(); }
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  hid_t release() { return std::exchange(id_, -1); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

// Each returns a valid handle or throws with `what` in the message.
Handle check_file(hid_t id, const std::string& what);
Handle check_group(hid_t id, const std::string& what);
Handle check_dataset(hid_t id, const std::string& what);
Handle check_space(hid_t id, const std::string& what);
Handle check_type(hid_t id, const std::string& what);
Handle check_attr(hid_t id, const std::string& what);
Handle check_plist(hid_t id, const std::string& what);
inline void check_call(herr_t r, const std::string& what) {
  if (r < 0) fail(MSW_STATUS_IO, what);
}

// Opens `path` read-only with the "strong" close degree: closing the file also closes every object still
// open in it, so a damaged file cannot leave identifiers behind for libhdf5 to complain about at exit.
Handle open_file_readonly(const std::string& path, const std::string& what);

// The HDF5 type a dtype is stored as: IEEE floats; float16 as h5py's half type; bfloat16, bool and fp8
// as unsigned bytes/shorts (the logical dtype is the "dtype" attribute).
Handle file_type(int32_t dtype);
// The matching in-memory type (little-endian host).
Handle memory_type(int32_t dtype);
// Throws unless the dataset's type `type` can hold `dtype` (class and size), naming `where`.
void check_stored_type(hid_t type, int32_t dtype, const std::string& where);

// The dtype named `name` ("float32", "bfloat16", ... as sdk::dtype_name), or -1.
int32_t dtype_from_name(const std::string& name);

// Attributes on an object.
void write_string_attr(hid_t obj, const char* name, const std::string& value, const std::string& where);
void write_i64_attr(hid_t obj, const char* name, const Dims& values, const std::string& where);
bool has_attr(hid_t obj, const char* name);
// Read an attribute, checking its type class; `where` names the file and object for messages.
std::string read_string_attr(hid_t obj, const char* name, const std::string& where);
Dims read_i64_attr(hid_t obj, const char* name, const std::string& where);

// A scalar variable-length UTF-8 string dataset (how h5py stores a Python str).
void write_string_dataset(hid_t loc, const char* name, const std::string& value, const std::string& where);
std::string read_string_dataset(hid_t loc, const char* name, const std::string& where);

// The dims of a dataset's dataspace (empty for a scalar).
Dims dataset_dims(hid_t dset, const std::string& where);

// Names of the links in group `group` (sorted by name).
std::vector<std::string> member_names(hid_t group, const std::string& where);

}  // namespace megaswift::hdf5
