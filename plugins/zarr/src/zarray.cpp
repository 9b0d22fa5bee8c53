#include "zarray.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace megaswift::zarr {

using sdk::Error;
using Json = nlohmann::json;

namespace {

struct DtypeEntry {
  const char* text;
  int32_t dtype;
};

// Megatron writes the little-endian NumPy strings ('|' for one-byte types) and the literal "bfloat16" it
// substitutes for ml_dtypes' "<V2". "<u1"/"<i1"/"<b1" are the same types spelled with '<'; accepted on read.
constexpr DtypeEntry kDtypes[] = {
    {"<f4", MSW_DTYPE_F32}, {"<f2", MSW_DTYPE_F16}, {"bfloat16", MSW_DTYPE_BF16}, {"<f8", MSW_DTYPE_F64},
    {"|i1", MSW_DTYPE_I8},  {"|u1", MSW_DTYPE_U8},  {"<i4", MSW_DTYPE_I32},       {"<i8", MSW_DTYPE_I64},
    {"|b1", MSW_DTYPE_BOOL}, {"<i1", MSW_DTYPE_I8}, {"<u1", MSW_DTYPE_U8},        {"<b1", MSW_DTYPE_BOOL},
};

std::string known_dtypes() {
  std::string s;
  for (const auto& e : kDtypes) s += (s.empty() ? "" : ", ") + std::string(e.text);
  return s;
}

Dims parse_dims(const Json& j, const char* field, const std::string& path) {
  if (!j.is_array())
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": field \"" + field + "\" must be a list of integers, got " +
                                                 j.dump());
  if (j.size() > MSW_MAX_DIMS)
    throw Error(MSW_STATUS_UNSUPPORTED, path + ": field \"" + field + "\" has " + std::to_string(j.size()) +
                                            " dimensions; at most " + std::to_string(MSW_MAX_DIMS) + " are supported");
  Dims d;
  for (const Json& v : j) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": field \"" + field +
                                                   "\" must hold non-negative integers, got " + j.dump());
    d.push_back(v.get<int64_t>());
  }
  return d;
}

// The fill value as one element of `dtype`, from zarr v2's JSON encoding (numbers; "NaN", "Infinity",
// "-Infinity" for floats; true/false for bool).
std::vector<char> parse_fill(const Json& j, int32_t dtype, const std::string& path) {
  std::vector<char> out(msw_dtype_size(dtype));
  auto bad = [&] {
    return Error(MSW_STATUS_INVALID_ARGUMENT, path + ": field \"fill_value\" " + j.dump() + " is not a " +
                                                  sdk::dtype_name(dtype) + " value");
  };
  if (ckpt::is_convertible_float(dtype)) {
    double v;
    if (j.is_number()) v = j.get<double>();
    else if (j == "NaN") v = std::numeric_limits<double>::quiet_NaN();
    else if (j == "Infinity") v = std::numeric_limits<double>::infinity();
    else if (j == "-Infinity") v = -std::numeric_limits<double>::infinity();
    else throw bad();
    ckpt::store_float(v, out.data(), dtype);
    return out;
  }
  if (dtype == MSW_DTYPE_BOOL) {
    if (j.is_boolean()) out[0] = j.get<bool>() ? 1 : 0;
    else if (j.is_number_integer() && (j.get<int64_t>() == 0 || j.get<int64_t>() == 1)) out[0] = static_cast<char>(j.get<int64_t>());
    else throw bad();
    return out;
  }
  if (!j.is_number_integer()) throw bad();
  int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  if (dtype == MSW_DTYPE_I8) lo = -128, hi = 127;
  if (dtype == MSW_DTYPE_U8) lo = 0, hi = 255;
  if (dtype == MSW_DTYPE_I32) lo = std::numeric_limits<int32_t>::min(), hi = std::numeric_limits<int32_t>::max();
  if (j.is_number_unsigned() && j.get<uint64_t>() > static_cast<uint64_t>(hi)) throw bad();
  const int64_t v = j.get<int64_t>();
  if (v < lo || v > hi) throw bad();
  // Little-endian two's complement, truncated to the element size.
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff);
  return out;
}

}  // namespace

const char* zarr_dtype_text(int32_t dtype) {
  for (const auto& e : kDtypes)
    if (e.dtype == dtype) return e.text;  // the first spelling is the one Megatron writes
  return nullptr;
}

std::string ZArray::chunk_key(const Dims& idx) const {
  if (idx.empty()) return "0";
  std::string key;
  for (size_t d = 0; d < idx.size(); ++d) key += (d ? std::string(1, separator) : "") + std::to_string(idx[d]);
  return key;
}

ZArray parse_zarray(const std::string& text, const std::string& path) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const std::exception& e) {
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + " is not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(MSW_STATUS_INVALID_ARGUMENT, path + " must hold a JSON object");
  auto field = [&](const char* name) -> const Json& {
    auto it = j.find(name);
    if (it == j.end()) throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": the field \"" + name + "\" is missing");
    return *it;
  };
  if (field("zarr_format") != 2)
    throw Error(MSW_STATUS_VERSION_MISMATCH, path + ": \"zarr_format\" is " + field("zarr_format").dump() +
                                                 "; only zarr v2 arrays (zarr_format 2) are supported");
  ZArray z;
  z.shape = parse_dims(field("shape"), "shape", path);
  z.chunks = parse_dims(field("chunks"), "chunks", path);
  if (z.chunks.size() != z.shape.size())
    throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": \"chunks\" " + ckpt::dims_string(z.chunks) + " and \"shape\" " +
                                                 ckpt::dims_string(z.shape) + " have different lengths");
  for (int64_t c : z.chunks)
    if (c < 1) throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": every entry of \"chunks\" must be at least 1");

  const Json& dt = field("dtype");
  if (!dt.is_string())
    throw Error(MSW_STATUS_UNSUPPORTED, path + ": \"dtype\" " + dt.dump() +
                                            " is a structured dtype; only plain dtypes are supported (" +
                                            known_dtypes() + ")");
  z.dtype_text = dt.get<std::string>();
  bool known = false;
  for (const auto& e : kDtypes)
    if (z.dtype_text == e.text) z.dtype = e.dtype, known = true;
  if (!known)
    throw Error(MSW_STATUS_UNSUPPORTED, path + ": \"dtype\" \"" + z.dtype_text + "\" is not supported; known: " +
                                            known_dtypes());

  const Json& comp = field("compressor");
  if (!comp.is_null()) {
    const std::string id = comp.is_object() && comp.contains("id") ? comp["id"].dump() : comp.dump();
    throw Error(MSW_STATUS_UNSUPPORTED, path + ": \"compressor\" is " + id +
                                            "; only uncompressed arrays (compressor null, as Megatron writes) are read");
  }
  if (auto it = j.find("filters"); it != j.end() && !it->is_null() && !(it->is_array() && it->empty()))
    throw Error(MSW_STATUS_UNSUPPORTED, path + ": \"filters\" is " + it->dump() + "; only arrays without filters are read");
  if (field("order") != "C")
    throw Error(MSW_STATUS_UNSUPPORTED, path + ": \"order\" is " + field("order").dump() +
                                            "; only C (row-major) order is read");
  if (auto it = j.find("dimension_separator"); it != j.end()) {
    if (*it == ".") z.separator = '.';
    else if (*it == "/") z.separator = '/';
    else
      throw Error(MSW_STATUS_INVALID_ARGUMENT, path + ": \"dimension_separator\" is " + it->dump() +
                                                   "; zarr v2 allows \".\" or \"/\"");
  }
  const Json& fill = field("fill_value");
  if (!fill.is_null()) z.fill = parse_fill(fill, z.dtype, path);

  ckpt::checked_bytes(z.shape, msw_dtype_size(z.dtype), path + ": \"shape\"");
  z.chunk_bytes = ckpt::checked_bytes(z.chunks, msw_dtype_size(z.dtype), path + ": \"chunks\"");
  return z;
}

std::string zarray_text(const Dims& shape, const Dims& chunks, int32_t dtype) {
  // nlohmann's object is a std::map, so keys come out sorted, as zarr's json.dumps(sort_keys=True).
  Json j = {{"chunks", chunks},   {"compressor", nullptr}, {"dtype", zarr_dtype_text(dtype)},
            {"fill_value", nullptr}, {"filters", nullptr},  {"order", "C"},
            {"shape", shape},     {"zarr_format", 2}};
  return j.dump(4);
}

}  // namespace megaswift::zarr
