#include "header.hpp"

#include <megaswift/sdk/status.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>
#include <set>

namespace st {
namespace {

using megaswift::sdk::Error;
using nlohmann::json;

[[noreturn]] void bad(const std::string& path, const std::string& what, msw_status_code code = MSW_STATUS_INVALID_ARGUMENT) {
  throw Error(code, "safetensors file " + path + ": " + what);
}

std::string field(const std::string& tensor, const char* name) {
  return "tensor \"" + tensor + "\" field \"" + name + "\"";
}

// Strict UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF); the byte offset of the first error or npos.
size_t utf8_error(const std::string& s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string::npos;
}

// The deepest nesting of objects and arrays outside strings. A safetensors header needs 3 (root, tensor, shape);
// nlohmann's recursive value handling would exhaust the stack on a header of a million '[' long before the size
// limit, so depth is checked first.
}  // namespace

size_t json_nesting_depth(const std::string& s) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

namespace {

// Parses with nlohmann, refusing duplicate keys at any level (the spec forbids them; nlohmann keeps the last).
json parse_json_object(const std::string& path, const std::string& text) {
  if (const size_t depth = json_nesting_depth(text); depth > kMaxNesting)
    bad(path, "the header nests objects and arrays " + std::to_string(depth) + " deep; a safetensors header needs 3 "
              "(at most " + std::to_string(kMaxNesting) + " accepted)");
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  const json::parser_callback_t cb = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) open_objects.emplace_back();
    else if (ev == json::parse_event_t::object_end) open_objects.pop_back();
    else if (ev == json::parse_event_t::key && !open_objects.empty() && duplicate.empty() &&
             !open_objects.back().insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  json j;
  try {
    j = json::parse(text, cb);
  } catch (const json::exception& e) {
    bad(path, std::string("the header is not valid JSON (") + e.what() + ")");
  }
  if (!duplicate.empty()) bad(path, "the header has the key \"" + duplicate + "\" twice; keys must be unique");
  if (!j.is_object()) bad(path, "the header must be a JSON object, found " + std::string(j.type_name()));
  return j;
}

uint64_t read_u64(const std::string& path, const std::string& tensor, const char* name, const json& v) {
  if (!v.is_number_unsigned())
    bad(path, field(tensor, name) + " holds " + v.dump() + "; expected a non-negative integer");
  return v.get<uint64_t>();
}

TensorEntry parse_entry(const std::string& path, const std::string& name, const json& v) {
  if (!v.is_object()) bad(path, "tensor \"" + name + "\" must be a JSON object, found " + v.dump());
  TensorEntry t;
  t.name = name;
  const auto dt = v.find("dtype"), sh = v.find("shape"), off = v.find("data_offsets");
  if (dt == v.end() || !dt->is_string()) bad(path, field(name, "dtype") + " is missing or not a string");
  const std::string dname = dt->get<std::string>();
  const auto dtype = dtype_from_name(dname);
  if (!dtype)
    bad(path, field(name, "dtype") + " is \"" + dname + "\", which " +
                  (is_spec_dtype(dname) ? "this plugin does not read" : "is not a safetensors dtype") +
                  "; known dtypes: " + known_dtype_list(),
        is_spec_dtype(dname) ? MSW_STATUS_UNSUPPORTED : MSW_STATUS_INVALID_ARGUMENT);
  t.dtype = *dtype;
  if (sh == v.end() || !sh->is_array()) bad(path, field(name, "shape") + " is missing or not an array");
  if (sh->size() > MSW_MAX_DIMS)
    bad(path, field(name, "shape") + " has " + std::to_string(sh->size()) + " dimensions; at most " +
                  std::to_string(MSW_MAX_DIMS) + " are supported", MSW_STATUS_UNSUPPORTED);
  uint64_t numel = 1;
  for (const json& d : *sh) {
    const uint64_t dim = read_u64(path, name, "shape", d);
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) || __builtin_mul_overflow(numel, dim, &numel))
      bad(path, field(name, "shape") + " " + sh->dump() + " has an element count that overflows 64 bits");
    t.shape.push_back(static_cast<int64_t>(dim));
  }
  t.numel = numel;
  uint64_t nbytes;
  if (__builtin_mul_overflow(numel, t.dtype.size, &nbytes))
    bad(path, field(name, "shape") + " " + sh->dump() + " times " + std::to_string(t.dtype.size) +
                  " bytes per element overflows 64 bits");
  if (off == v.end() || !off->is_array() || off->size() != 2)
    bad(path, field(name, "data_offsets") + " must be an array [begin, end]");
  t.begin = read_u64(path, name, "data_offsets", (*off)[0]);
  t.end = read_u64(path, name, "data_offsets", (*off)[1]);
  if (t.end < t.begin)
    bad(path, field(name, "data_offsets") + " " + off->dump() + " ends before it begins");
  if (t.end - t.begin != nbytes)
    bad(path, field(name, "data_offsets") + " " + off->dump() + " spans " + std::to_string(t.end - t.begin) +
                  " bytes but shape " + sh->dump() + " of " + dname + " needs " + std::to_string(nbytes));
  return t;
}

}  // namespace

FileHeader parse_header(const std::string& path, const std::string& text, uint64_t file_size) {
  FileHeader h;
  h.path = path;
  h.header_size = text.size();
  h.data_start = 8 + text.size();
  h.file_size = file_size;
  if (h.data_start > file_size)
    bad(path, "the header of " + std::to_string(text.size()) + " bytes runs past the end of the file", MSW_STATUS_IO);
  if (const size_t at = utf8_error(text); at != std::string::npos)
    bad(path, "the header is not valid UTF-8 (byte " + std::to_string(at) + " of the JSON)");
  if (text.empty() || text[0] != '{') bad(path, "the header must start with '{' (a JSON object)");
  const json j = parse_json_object(path, text);
  const uint64_t data_size = file_size - h.data_start;  // read_header checked data_start <= file_size
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it->is_null()) continue;  // the reference reader takes null as "no metadata"
      if (!it->is_object()) bad(path, "\"__metadata__\" must be an object of strings, found " + it->dump());
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          bad(path, "\"__metadata__\" entry \"" + m.key() + "\" holds " + m->dump() + "; only strings are allowed");
        h.metadata[m.key()] = m->get<std::string>();
      }
      continue;
    }
    TensorEntry t = parse_entry(path, it.key(), *it);
    if (t.end > data_size)
      bad(path, field(t.name, "data_offsets") + " [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                    "] is out of range: the data area holds " + std::to_string(data_size) +
                    " bytes (file truncated or offsets wrong)",
          MSW_STATUS_IO);
    h.tensors.push_back(std::move(t));
  }
  // The spec: sorted by offsets the entries tile the data area from 0 to its end, no overlap, no hole.
  std::sort(h.tensors.begin(), h.tensors.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  const TensorEntry* prev = nullptr;
  for (const TensorEntry& t : h.tensors) {
    const std::string range = "[" + std::to_string(t.begin) + ", " + std::to_string(t.end) + "]";
    if (t.begin < cursor)
      bad(path, field(t.name, "data_offsets") + " " + range + " overlaps tensor \"" + prev->name + "\" at [" +
                    std::to_string(prev->begin) + ", " + std::to_string(prev->end) + "]; tensors must not overlap");
    if (t.begin > cursor)
      bad(path, field(t.name, "data_offsets") + " " + range + " leaves a gap of " + std::to_string(t.begin - cursor) +
                    " bytes after offset " + std::to_string(cursor) + "; tensors must cover the data area without holes");
    cursor = t.end;
    prev = &t;
  }
  if (cursor != data_size)
    bad(path, "the tensors cover " + std::to_string(cursor) + " bytes of data but the file holds " +
                  std::to_string(data_size) + " after the header (" + std::to_string(data_size - cursor) +
                  " trailing bytes no tensor owns)");
  return h;
}

FileHeader read_header(const Fd& f) {
  const uint64_t size = file_size(f);
  if (size < 8)
    bad(f.path(), "the file has " + std::to_string(size) + " bytes; the 8-byte header length alone needs 8 (truncated)",
        MSW_STATUS_IO);
  unsigned char len_bytes[8];
  pread_exact(f, len_bytes, 8, 0, "the header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_bytes[i];  // little-endian
  if (n > kMaxHeaderSize)
    bad(f.path(), "the header length " + std::to_string(n) + " is above the limit of " +
                      std::to_string(kMaxHeaderSize) + " bytes (not a safetensors file, or corrupt)");
  if (n > size - 8)
    bad(f.path(), "the header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) +
                      " bytes; truncated)", MSW_STATUS_IO);
  std::string text(static_cast<size_t>(n), '\0');
  pread_exact(f, text.data(), text.size(), 8, "the header");
  return parse_header(f.path(), text, size);
}

}  // namespace st
