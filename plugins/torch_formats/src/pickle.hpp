// Python pickle, restricted to what torch.save (data.pkl), DCP's .metadata and Megatron's common.pt contain.
//
// The reader is a pickle VM that NEVER calls anything: GLOBAL names a class from a fixed allow-list and
// REDUCE / NEWOBJ / BUILD only record "object(class, args, state)" nodes in a value tree. Every length and
// index is checked against the input before use; an unknown opcode or class is an error naming it and its
// byte offset. Values live in an arena owned by the Pickle (no shared_ptr cycles, no recursive
// destructors), and consumers walk the tree with a depth limit, so a cyclic or very deep pickle is an
// error instead of a stack overflow.
//
// The writer emits protocol 2, the protocol torch.save uses and the weights-only unpickler accepts.
#pragma once

#include <megaswift/sdk/status.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace torchfmt {

using megaswift::sdk::Error;

enum class PyKind : uint8_t { None, Bool, Int, Float, Str, Bytes, List, Tuple, Dict, Global, Object, PersId };

struct PyValue {
  PyKind kind = PyKind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                 // Str/Bytes: the text; Global/Object/Dict: the class path "module.Name"
  std::vector<PyValue*> items;   // List/Tuple; Dict: k0, v0, k1, v1, ...; PersId: the persistent id
  PyValue* args = nullptr;       // Object: the arguments tuple given to REDUCE / NEWOBJ
  PyValue* state = nullptr;      // Object: what BUILD gave (a dict, or a tuple for TensorProperties)
  uint64_t offset = 0;           // byte where the value was made, for error messages

  bool is(PyKind k) const { return kind == k; }
  bool is_object(std::string_view cls) const { return kind == PyKind::Object && s == cls; }
  // Dict lookup by string key; nullptr when absent.
  const PyValue* get(std::string_view key) const;
};

// Deepest nesting a consumer walks; Python's own default recursion limit is 1000.
inline constexpr int kMaxNesting = 500;

class Pickle {
 public:
  const PyValue* root() const { return root_; }
  PyValue* make(PyKind k, uint64_t offset) {
    arena_.emplace_back();
    arena_.back().kind = k;
    arena_.back().offset = offset;
    return &arena_.back();
  }
  void set_root(PyValue* v) { root_ = v; }

 private:
  std::deque<PyValue> arena_;  // stable addresses
  PyValue* root_ = nullptr;
};

// True when "module.Name" may appear in a GLOBAL / STACK_GLOBAL of the files this plugin reads.
bool allowed_global(std::string_view path);

// Parses a pickle (protocols 0-5 opcodes that these formats use). `what` names the file in errors.
Pickle parse_pickle(const uint8_t* data, size_t size, const std::string& what);

// Protocol-2 writer. Callers emit the opcodes in the order pickle would; helpers below cover containers.
class PickleWriter {
 public:
  PickleWriter();  // writes PROTO 2
  void none();
  void boolean(bool v);
  void integer(int64_t v);
  void floating(double v);
  void str(std::string_view v);
  void bytes(std::string_view v);  // BINBYTES (a protocol-3 opcode; only for values torch.load never sees)
  void global(std::string_view module, std::string_view name);
  void mark();
  void empty_dict();
  void empty_list();
  void empty_tuple();
  void setitems();  // after mark and pairs
  void appends();   // after mark and items
  void tuple_from_mark();
  void tuple_n(int n);  // TUPLE1/2/3 for n in 1..3
  void reduce();
  void newobj();
  void build();
  void binpersid();
  void stop();
  // tuple of ints: (a, b, ...) with the short forms Python uses.
  void int_tuple(const std::vector<int64_t>& v);
  const std::string& bytes_out() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// A value of a python int tuple / list (or torch.Size object) as int64s; throws naming `what` otherwise.
std::vector<int64_t> as_int_vector(const PyValue* v, const std::string& what);
int64_t as_int(const PyValue* v, const std::string& what);
const std::string& as_str(const PyValue* v, const std::string& what);

}  // namespace torchfmt
