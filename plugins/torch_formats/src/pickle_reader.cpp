// The restricted pickle VM (see pickle.hpp): builds a value tree, never calls anything.
#include "pickle.hpp"

#include <array>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

namespace torchfmt {

const PyValue* PyValue::get(std::string_view key) const {
  if (kind != PyKind::Dict) return nullptr;
  for (size_t k = 0; k + 1 < items.size(); k += 2)
    if (items[k]->kind == PyKind::Str && items[k]->s == key) return items[k + 1];
  return nullptr;
}

namespace {

// Every class or function these formats reference (formats.md 1.3, 1.4, 3.2, 3.4).
const std::unordered_set<std::string_view>& allow_list() {
  static const std::unordered_set<std::string_view> s = {
      // torch.save data.pkl
      "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter", "collections.OrderedDict",
      "torch.DoubleStorage", "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage",
      "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
      "torch.BoolStorage", "torch.UntypedStorage", "torch.Float8_e4m3fnStorage", "torch.Float8_e5m2Storage",
      // Megatron's common state (its torch.load safe globals): args, RNG state with numpy arrays, and the
      // bytes / BytesIO a protocol-2 pickle builds through _codecs.encode (TE's _extra_state)
      "argparse.Namespace", "types.SimpleNamespace", "pathlib.PosixPath", "torch.device", "_io.BytesIO",
      "_codecs.encode", "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct", "numpy.ndarray",
      "numpy.dtype",
      // torch values inside .metadata
      "torch.Size", "torch.serialization._get_layout", "torch.float32", "torch.float16", "torch.bfloat16",
      "torch.float64", "torch.int64", "torch.int32", "torch.int16", "torch.int8", "torch.uint8", "torch.bool",
      "torch.float8_e4m3fn", "torch.float8_e5m2",
      // DCP metadata classes, current and pre-2.4 locations
      "torch.distributed.checkpoint.metadata.Metadata",
      "torch.distributed.checkpoint.metadata.TensorStorageMetadata",
      "torch.distributed.checkpoint.metadata.BytesStorageMetadata",
      "torch.distributed.checkpoint.metadata.ChunkStorageMetadata",
      "torch.distributed.checkpoint.metadata.TensorProperties",
      "torch.distributed.checkpoint.metadata._MEM_FORMAT_ENCODING",
      "torch.distributed.checkpoint.metadata.MetadataIndex",
      "torch.distributed.checkpoint.metadata.StorageMeta",
      "torch.distributed.checkpoint.filesystem._StorageInfo",
      "torch.distributed._shard.sharded_tensor.metadata.TensorProperties",
      "torch.distributed._shard.sharded_tensor.metadata.MEM_FORMAT_ENCODING",
      "megatron.core.dist_checkpointing.strategies.torch.MCoreMetadata",
  };
  return s;
}

const char* opcode_name(uint8_t op) {
  switch (op) {
    case 'c': return "GLOBAL";
    case 'i': return "INST";
    case 'o': return "OBJ";
    case 'I': return "INT";
    case 'L': return "LONG";
    case 'S': return "STRING";
    case 'V': return "UNICODE";
    case 'F': return "FLOAT";
    case 'P': return "PERSID";
    case 'p': return "PUT";
    case 'g': return "GET";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    case '2': return "DUP";
    default: return "unknown";
  }
}

class Vm {
 public:
  Vm(const uint8_t* d, size_t n, const std::string& what) : d_(d), n_(n), what_(what) {}

  Pickle run() {
    Pickle p;
    pickle_ = &p;
    for (;;) {
      if (pos_ >= n_) fail("the pickle ends at byte " + std::to_string(n_) + " before its STOP opcode");
      const size_t at = pos_;
      const uint8_t op = d_[pos_++];
      at_ = at;
      switch (op) {
        case 0x80: {  // PROTO
          const uint8_t v = u8();
          if (v > 5) fail("pickle protocol " + std::to_string(v) + " is newer than 5");
          break;
        }
        case 0x95: (void)u64(); break;  // FRAME: a length hint; the stream reads on regardless
        case '.': {                     // STOP
          if (stack_.size() != 1 || !marks_.empty())
            fail("STOP with " + std::to_string(stack_.size()) + " values on the stack (expected exactly one)");
          p.set_root(stack_.back());
          return p;
        }
        case '(': marks_.push_back(stack_.size()); break;
        case '0': pop(); break;  // POP
        case '1': pop_mark(); break;
        case 'N': push(make(PyKind::None)); break;
        case 0x88: push_bool(true); break;
        case 0x89: push_bool(false); break;
        case 'J': push_int(static_cast<int32_t>(le(4))); break;
        case 'K': push_int(u8()); break;
        case 'M': push_int(static_cast<int64_t>(le(2))); break;
        case 0x8a: push_int(long_bytes(u8())); break;  // LONG1
        case 0x8b: push_int(long_bytes(le(4))); break;  // LONG4
        case 'G': {
          const uint64_t bits = be(8);
          double v;
          std::memcpy(&v, &bits, 8);
          PyValue* x = make(PyKind::Float);
          x->f = v;
          push(x);
          break;
        }
        case 'X': push_text(PyKind::Str, le(4)); break;     // BINUNICODE
        case 0x8c: push_text(PyKind::Str, u8()); break;    // SHORT_BINUNICODE
        case 0x8d: push_text(PyKind::Str, u64()); break;   // BINUNICODE8
        case 'U': push_text(PyKind::Str, u8()); break;     // SHORT_BINSTRING (py2 str, read as text)
        case 'T': push_text(PyKind::Str, le(4)); break;    // BINSTRING
        case 'B': push_text(PyKind::Bytes, le(4)); break;  // BINBYTES
        case 'C': push_text(PyKind::Bytes, u8()); break;   // SHORT_BINBYTES
        case 0x8e: push_text(PyKind::Bytes, u64()); break; // BINBYTES8
        case ']': push(make(PyKind::List)); break;
        case '}': push(make(PyKind::Dict)); break;
        case ')': push(make(PyKind::Tuple)); break;
        case 'l': {  // LIST
          PyValue* l = make(PyKind::List);
          l->items = pop_mark();
          push(l);
          break;
        }
        case 'd': {  // DICT
          PyValue* dct = make(PyKind::Dict);
          std::vector<PyValue*> kv = pop_mark();
          if (kv.size() % 2) fail("DICT with an odd number of keys and values");
          dct->items = std::move(kv);
          push(dct);
          break;
        }
        case 't': {
          PyValue* t = make(PyKind::Tuple);
          t->items = pop_mark();
          push(t);
          break;
        }
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          const size_t k = op - 0x84;
          need(k);
          PyValue* t = make(PyKind::Tuple);
          t->items.assign(stack_.end() - static_cast<long>(k), stack_.end());
          stack_.resize(stack_.size() - k);
          push(t);
          break;
        }
        case 'a': {  // APPEND
          PyValue* v = pop();
          list_top("APPEND")->items.push_back(v);
          break;
        }
        case 'e': {  // APPENDS
          std::vector<PyValue*> vs = pop_mark();
          PyValue* l = list_top("APPENDS");
          l->items.insert(l->items.end(), vs.begin(), vs.end());
          break;
        }
        case 's': {  // SETITEM
          PyValue* v = pop();
          PyValue* k = pop();
          PyValue* dct = dict_top("SETITEM");
          dct->items.push_back(k);
          dct->items.push_back(v);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<PyValue*> kv = pop_mark();
          if (kv.size() % 2) fail("SETITEMS with an odd number of keys and values");
          PyValue* dct = dict_top("SETITEMS");
          dct->items.insert(dct->items.end(), kv.begin(), kv.end());
          break;
        }
        case 'c': {  // GLOBAL 'module\nname\n'
          std::string module = line();
          std::string name = line();
          push_global(module + "." + name);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          PyValue* name = pop();
          PyValue* module = pop();
          if (!name->is(PyKind::Str) || !module->is(PyKind::Str)) fail("STACK_GLOBAL needs two strings");
          push_global(module->s + "." + name->s);
          break;
        }
        case 'R': case 0x81: {  // REDUCE, NEWOBJ: record, never call
          PyValue* args = pop();
          PyValue* callable = pop();
          const char* name = op == 'R' ? "REDUCE" : "NEWOBJ";
          if (!callable->is(PyKind::Global))
            fail(std::string(name) + " of something that is not an allow-listed class or function");
          if (!args->is(PyKind::Tuple)) fail(std::string(name) + " with arguments that are not a tuple");
          if (callable->s == "collections.OrderedDict") {
            if (!args->items.empty()) fail("collections.OrderedDict built with arguments; only an empty one is read");
            PyValue* dct = make(PyKind::Dict);
            dct->s = callable->s;
            push(dct);
          } else {
            PyValue* o = make(PyKind::Object);
            o->s = callable->s;
            o->args = args;
            push(o);
          }
          break;
        }
        case 'b': {  // BUILD: keep the state beside the object
          PyValue* state = pop();
          need(1);
          PyValue* o = stack_.back();
          if (o->is(PyKind::Dict) && o->s == "collections.OrderedDict") break;  // its state is its __dict__
          if (!o->is(PyKind::Object)) fail("BUILD on a value that is not an object");
          o->state = state;
          break;
        }
        case 'Q': {  // BINPERSID
          PyValue* pid = pop();
          PyValue* x = make(PyKind::PersId);
          x->items.push_back(pid);
          push(x);
          break;
        }
        case 'q': memo_put(u8()); break;
        case 'r': memo_put(le(4)); break;
        case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
        case 'h': memo_get(u8()); break;
        case 'j': memo_get(le(4)); break;
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          throw Error(MSW_STATUS_UNSUPPORTED, what_ + ": pickle opcode " + hex + " (" + opcode_name(op) +
                                                  ") at byte " + std::to_string(at) +
                                                  " is not one this restricted reader knows (torch.save, DCP "
                                                  ".metadata and Megatron common.pt never need it)");
        }
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(MSW_STATUS_IO, what_ + ": malformed pickle at byte " + std::to_string(at_) + ": " + msg);
  }
  void ensure(uint64_t k) const {
    if (k > n_ - pos_)
      fail("needs " + std::to_string(k) + " more bytes but only " + std::to_string(n_ - pos_) + " remain");
  }
  uint8_t u8() {
    ensure(1);
    return d_[pos_++];
  }
  uint64_t le(int k) {
    ensure(static_cast<uint64_t>(k));
    uint64_t v = 0;
    for (int b = 0; b < k; ++b) v |= static_cast<uint64_t>(d_[pos_ + b]) << (8 * b);
    pos_ += static_cast<size_t>(k);
    return v;
  }
  uint64_t u64() { return le(8); }
  uint64_t be(int k) {
    ensure(static_cast<uint64_t>(k));
    uint64_t v = 0;
    for (int b = 0; b < k; ++b) v = (v << 8) | d_[pos_ + b];
    pos_ += static_cast<size_t>(k);
    return v;
  }
  int64_t long_bytes(uint64_t k) {
    ensure(k);
    if (k > 8) fail("an integer of " + std::to_string(k) + " bytes does not fit 64 bits");
    if (k == 0) return 0;
    uint64_t v = 0;
    for (uint64_t b = 0; b < k; ++b) v |= static_cast<uint64_t>(d_[pos_ + b]) << (8 * b);
    if (k < 8 && (d_[pos_ + k - 1] & 0x80)) v |= ~uint64_t{0} << (8 * k);  // sign-extend
    pos_ += k;
    return static_cast<int64_t>(v);
  }
  std::string line() {
    size_t end = pos_;
    while (end < n_ && d_[end] != '\n') ++end;
    if (end >= n_) fail("GLOBAL name runs past the end of the pickle");
    std::string s(reinterpret_cast<const char*>(d_ + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }
  PyValue* make(PyKind k) { return pickle_->make(k, at_); }
  void push(PyValue* v) {
    // Each opcode pushes at most one value, so the stack can never outgrow the input.
    if (stack_.size() > n_) fail("stack larger than the input");
    stack_.push_back(v);
  }
  void push_bool(bool b) {
    PyValue* v = make(PyKind::Bool);
    v->b = b;
    push(v);
  }
  void push_int(int64_t i) {
    PyValue* v = make(PyKind::Int);
    v->i = i;
    push(v);
  }
  void push_text(PyKind k, uint64_t len) {
    ensure(len);
    PyValue* v = make(k);
    v->s.assign(reinterpret_cast<const char*>(d_ + pos_), len);
    pos_ += len;
    push(v);
  }
  void push_global(const std::string& path) {
    if (!allowed_global(path))
      throw Error(MSW_STATUS_UNSUPPORTED, what_ + ": pickle references class or function '" + path + "' at byte " +
                                              std::to_string(at_) +
                                              ", which is not on this reader's allow-list (it never imports or "
                                              "runs code; only the classes of torch.save, DCP metadata and "
                                              "Megatron's common state are known)");
    PyValue* g = make(PyKind::Global);
    g->s = path;
    push(g);
  }
  void need(size_t k) const {
    const size_t floor = marks_.empty() ? 0 : marks_.back();
    if (stack_.size() < floor + k) fail("needs " + std::to_string(k) + " values on the stack above the mark");
  }
  PyValue* pop() {
    need(1);
    PyValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  std::vector<PyValue*> pop_mark() {
    if (marks_.empty()) fail("an opcode needs a MARK but there is none");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyValue*> out(stack_.begin() + static_cast<long>(m), stack_.end());
    stack_.resize(m);
    return out;
  }
  PyValue* list_top(const char* op) {
    need(1);
    PyValue* l = stack_.back();
    if (!l->is(PyKind::List)) fail(std::string(op) + " to a value that is not a list");
    return l;
  }
  PyValue* dict_top(const char* op) {
    need(1);
    PyValue* dct = stack_.back();
    if (!dct->is(PyKind::Dict)) fail(std::string(op) + " to a value that is not a dict");
    return dct;
  }
  void memo_put(uint64_t idx) {
    if (stack_.empty()) fail("memo store with an empty stack");
    memo_[idx] = stack_.back();
  }
  void memo_get(uint64_t idx) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) fail("memo entry " + std::to_string(idx) + " was never stored");
    push(it->second);
  }

  const uint8_t* d_;
  size_t n_;
  const std::string& what_;
  size_t pos_ = 0;
  size_t at_ = 0;
  Pickle* pickle_ = nullptr;
  std::vector<PyValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyValue*> memo_;
};

}  // namespace

bool allowed_global(std::string_view path) {
  if (allow_list().count(path)) return true;
  // Megatron's enums (AttnBackend, ModelType, ...) appear in args; they are recorded by name, never built.
  return path.rfind("megatron.core.", 0) == 0 && path.find(".enums.") != std::string_view::npos;
}

Pickle parse_pickle(const uint8_t* data, size_t size, const std::string& what) {
  if (!data && size) throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": pickle data is NULL");
  return Vm(data, size, what).run();
}

std::vector<int64_t> as_int_vector(const PyValue* v, const std::string& what) {
  if (v && v->is_object("torch.Size") && v->args && v->args->items.size() == 1) v = v->args->items[0];
  if (!v || !(v->is(PyKind::Tuple) || v->is(PyKind::List)))
    throw Error(MSW_STATUS_IO, what + ": expected a tuple of ints");
  std::vector<int64_t> out;
  for (const PyValue* x : v->items) out.push_back(as_int(x, what));
  return out;
}

int64_t as_int(const PyValue* v, const std::string& what) {
  if (!v || !(v->is(PyKind::Int) || v->is(PyKind::Bool))) throw Error(MSW_STATUS_IO, what + ": expected an int");
  return v->is(PyKind::Bool) ? v->b : v->i;
}

const std::string& as_str(const PyValue* v, const std::string& what) {
  if (!v || !v->is(PyKind::Str)) throw Error(MSW_STATUS_IO, what + ": expected a string");
  return v->s;
}

}  // namespace torchfmt
