// C++ layer of the tokenizer kind (megaswift/c/tokenizer.h).
//
// Plugin side: derive from Tokenizer (constructible from the config JSON text) and register it with
//   MEGASWIFT_PLUGIN("hf_bpe", "0.1.0", megaswift::sdk::tokenizer_component<HfBpe>("hf_bpe", "0.1.0", "..."))
// A class with a `static int32_t probe(std::string_view model_dir)` fills the optional probe entry, so the
// host can choose it for a model directory. The trampolines below implement the MSW buffer protocol
// (buffer.hpp) and turn exceptions into statuses, or into the entry's "nothing" value for entries that
// return plain values, so a plugin only returns vectors and strings.
//
// Caller side: TokenizerHandle owns an instance made through a vtable and hides the protocol (it retries
// with the reported size), for the host, templates and tests. Failures throw sdk::Error with the
// plugin's status code.
#pragma once

#include <megaswift/c/tokenizer.h>
#include <megaswift/sdk/buffer.hpp>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/status.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace megaswift::sdk {

// One generated sequence's incremental decoder. The returned views stay valid until the next call.
class TokenizerStream {
 public:
  virtual ~TokenizerStream() = default;
  virtual std::string_view step(int32_t id) = 0;
  virtual std::string_view flush() = 0;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::vector<int32_t> encode(std::string_view text, uint32_t flags) const = 0;
  // Default: encode() on up to num_threads threads, texts claimed one at a time.
  virtual std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string_view>& texts, uint32_t flags,
                                                         int num_threads) const {
    std::vector<std::vector<int32_t>> out(texts.size());
    size_t workers = std::min<size_t>(texts.size(), static_cast<size_t>(std::max(1, num_threads)));
    if (workers <= 1) {
      for (size_t i = 0; i < texts.size(); ++i) out[i] = encode(texts[i], flags);
      return out;
    }
    std::atomic<size_t> next{0};
    std::exception_ptr first_error;
    std::atomic<bool> failed{false};
    auto work = [&] {
      try {
        for (size_t i = next++; i < texts.size() && !failed; i = next++) out[i] = encode(texts[i], flags);
      } catch (...) {
        if (!failed.exchange(true)) first_error = std::current_exception();
      }
    };
    std::vector<std::thread> threads;
    for (size_t t = 1; t < workers; ++t) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
    if (first_error) std::rethrow_exception(first_error);
    return out;
  }
  virtual std::string decode(const int32_t* ids, size_t count, uint32_t flags) const = 0;
  virtual int32_t vocab_size() const = 0;
  virtual int32_t token_to_id(std::string_view token) const = 0;
  // NULL when unknown; the string lives as long as the instance.
  virtual const std::string* id_to_token(int32_t id) const = 0;
  virtual int32_t special_token_id(msw_tokenizer_special which) const = 0;
  virtual bool is_special(int32_t id) const = 0;
  virtual std::unique_ptr<TokenizerStream> make_stream(uint32_t flags) const = 0;
};

namespace detail {

inline std::string_view text_arg(const char* text, size_t len) {
  if (!text && len) throw Error(MSW_STATUS_INVALID_ARGUMENT, "tokenizer: text is NULL but len > 0");
  return text ? std::string_view(text, len) : std::string_view();
}

inline TokenizerStream& stream_cast(msw_tokenizer_stream* s) {
  if (!s) throw Error(MSW_STATUS_INVALID_ARGUMENT, "tokenizer stream: NULL stream");
  return *reinterpret_cast<TokenizerStream*>(s);
}

inline void view_out(std::string_view v, const char** out_text, size_t* out_len) {
  if (!out_text || !out_len) throw Error(MSW_STATUS_INVALID_ARGUMENT, "tokenizer stream: NULL output pointer");
  *out_text = v.data();
  *out_len = v.size();
}

// T has `static int32_t probe(std::string_view model_dir)`.
template <class T, class = void>
struct HasProbe : std::false_type {};
template <class T>
struct HasProbe<T, std::void_t<decltype(static_cast<int32_t>(T::probe(std::string_view())))>> : std::true_type {};

template <class T>
struct TokenizerTrampolines {
  static int32_t probe(const char* model_dir) noexcept {
    return guard_value<int32_t>(0, "tokenizer probe", [&] {
      if (!model_dir) return int32_t{0};
      return std::clamp<int32_t>(T::probe(model_dir), 0, 100);
    });
  }
  static msw_status* encode(const void* self, const char* text, size_t len, uint32_t flags, int32_t* ids,
                            size_t capacity, size_t* out_needed) noexcept {
    return guard([&] {
      std::vector<int32_t> v = self_cast_const<T>(self).encode(text_arg(text, len), flags);
      ::megaswift::sdk::write_array(v.data(), v.size(), ids, capacity, out_needed, "tokenizer encode");
    });
  }
  // Both `ids` and `offsets` are written only when the whole result fits.
  static msw_status* encode_batch(const void* self, const char* const* texts, const size_t* lens, size_t count,
                                  uint32_t flags, int32_t num_threads, int32_t* ids, size_t capacity,
                                  size_t* offsets, size_t* out_needed) noexcept {
    return guard([&] {
      if (count && (!texts || !lens)) throw Error(MSW_STATUS_INVALID_ARGUMENT, "encode_batch: texts or lens is NULL");
      if (!offsets) throw Error(MSW_STATUS_INVALID_ARGUMENT, "encode_batch: offsets is NULL (needs count + 1 elements)");
      if (!out_needed) throw Error(MSW_STATUS_INVALID_ARGUMENT, "encode_batch: out_needed is NULL");
      if (capacity && !ids) throw Error(MSW_STATUS_INVALID_ARGUMENT, "encode_batch: ids is NULL but capacity > 0");
      std::vector<std::string_view> views(count);
      for (size_t i = 0; i < count; ++i) views[i] = text_arg(texts[i], lens[i]);
      auto results = self_cast_const<T>(self).encode_batch(views, flags, num_threads);
      if (results.size() != count)
        throw Error(MSW_STATUS_INTERNAL, "encode_batch: the tokenizer returned " + std::to_string(results.size()) +
                                             " results for " + std::to_string(count) + " texts");
      size_t total = 0;
      for (const auto& r : results) total += r.size();
      if (total <= capacity) {
        size_t at = 0;
        for (size_t i = 0; i < count; ++i) {
          offsets[i] = at;
          if (!results[i].empty()) std::memcpy(ids + at, results[i].data(), results[i].size() * sizeof(int32_t));
          at += results[i].size();
        }
        offsets[count] = at;
      }
      *out_needed = total;
    });
  }
  static msw_status* decode(const void* self, const int32_t* ids, size_t count, uint32_t flags, char* text,
                            size_t capacity, size_t* out_needed) noexcept {
    return guard([&] {
      if (count && !ids) throw Error(MSW_STATUS_INVALID_ARGUMENT, "decode: ids is NULL but count > 0");
      std::string s = self_cast_const<T>(self).decode(ids, count, flags);
      ::megaswift::sdk::write_text(s, text, capacity, out_needed, "tokenizer decode");
    });
  }
  // The entries below return plain values; on an exception they answer the entry's "nothing".
  static int32_t vocab_size(const void* self) noexcept {
    return guard_value<int32_t>(0, "tokenizer vocab_size", [&] { return self_cast_const<T>(self).vocab_size(); });
  }
  static int32_t token_to_id(const void* self, const char* token, size_t len) noexcept {
    return guard_value<int32_t>(-1, "tokenizer token_to_id",
                                [&] { return self_cast_const<T>(self).token_to_id(text_arg(token, len)); });
  }
  static const char* id_to_token(const void* self, int32_t id, size_t* out_len) noexcept {
    return guard_value<const char*>(nullptr, "tokenizer id_to_token", [&]() -> const char* {
      const std::string* s = self_cast_const<T>(self).id_to_token(id);
      if (!s) return nullptr;
      if (out_len) *out_len = s->size();
      return s->c_str();
    });
  }
  static int32_t special_token_id(const void* self, int32_t which) noexcept {
    return guard_value<int32_t>(-1, "tokenizer special_token_id", [&] {
      if (which < MSW_TOKENIZER_BOS || which > MSW_TOKENIZER_UNK) return int32_t{-1};
      return self_cast_const<T>(self).special_token_id(static_cast<msw_tokenizer_special>(which));
    });
  }
  static int32_t is_special(const void* self, int32_t id) noexcept {
    return guard_value<int32_t>(0, "tokenizer is_special",
                                [&] { return self_cast_const<T>(self).is_special(id) ? int32_t{1} : int32_t{0}; });
  }
  static msw_status* stream_create(const void* self, uint32_t flags, msw_tokenizer_stream** out) noexcept {
    return guard([&] {
      if (!out) throw Error(MSW_STATUS_INVALID_ARGUMENT, "stream_create: out_stream is NULL");
      std::unique_ptr<TokenizerStream> s = self_cast_const<T>(self).make_stream(flags);
      if (!s) throw Error(MSW_STATUS_INTERNAL, "stream_create: the tokenizer made no stream");
      *out = reinterpret_cast<msw_tokenizer_stream*>(s.release());
    });
  }
  static void stream_destroy(msw_tokenizer_stream* s) noexcept {
    guard_value<int>(0, "tokenizer stream_destroy", [&] {
      delete reinterpret_cast<TokenizerStream*>(s);
      return 0;
    });
  }
  static msw_status* stream_step(msw_tokenizer_stream* s, int32_t id, const char** out_text,
                                 size_t* out_len) noexcept {
    return guard([&] { view_out(stream_cast(s).step(id), out_text, out_len); });
  }
  static msw_status* stream_flush(msw_tokenizer_stream* s, const char** out_text, size_t* out_len) noexcept {
    return guard([&] { view_out(stream_cast(s).flush(), out_text, out_len); });
  }
};

}  // namespace detail

template <class T>
const msw_tokenizer_vtable* tokenizer_vtable() {
  static_assert(std::is_base_of<Tokenizer, T>::value, "T must derive from megaswift::sdk::Tokenizer");
  using Tr = detail::TokenizerTrampolines<T>;
  static const msw_tokenizer_vtable vt = [] {
    msw_tokenizer_vtable v{};
    v.struct_size = sizeof(msw_tokenizer_vtable);
    if constexpr (detail::HasProbe<T>::value) v.probe = &Tr::probe;
    v.create = &create_instance<T>;
    v.destroy = &destroy_instance<T>;
    v.encode = &Tr::encode;
    v.encode_batch = &Tr::encode_batch;
    v.decode = &Tr::decode;
    v.vocab_size = &Tr::vocab_size;
    v.token_to_id = &Tr::token_to_id;
    v.id_to_token = &Tr::id_to_token;
    v.special_token_id = &Tr::special_token_id;
    v.is_special = &Tr::is_special;
    v.stream_create = &Tr::stream_create;
    v.stream_destroy = &Tr::stream_destroy;
    v.stream_step = &Tr::stream_step;
    v.stream_flush = &Tr::stream_flush;
    return v;
  }();
  return &vt;
}

template <class T>
msw_component tokenizer_component(const char* name, const char* version, const char* summary) {
  return make_component(MSW_KIND_TOKENIZER, name, version, summary, tokenizer_vtable<T>());
}

// ---- caller side ----

// An instance created through a tokenizer vtable (a copy the caller made, e.g. the registry's
// vtable_copy), with the buffer protocol hidden. Failures throw sdk::Error carrying the plugin's status
// code and message (the status is freed through `host`).
class TokenizerHandle {
 public:
  TokenizerHandle(const msw_tokenizer_vtable& vt, const msw_host_api& host, const std::string& config_json)
      : vt_(vt), host_(&host) {
    void* self = nullptr;
    check(vt_.create(config_json.c_str(), &self), *host_);
    if (!self) throw Error(MSW_STATUS_INTERNAL, "tokenizer create succeeded but returned no instance");
    self_ = self;
  }
  TokenizerHandle(const TokenizerHandle&) = delete;
  TokenizerHandle& operator=(const TokenizerHandle&) = delete;
  ~TokenizerHandle() {
    if (self_) vt_.destroy(self_);
  }

  std::vector<int32_t> encode(std::string_view text, uint32_t flags = 0) const {
    std::vector<int32_t> ids(text.size() + 16);
    read_array(
        ids,
        [&](int32_t* out, size_t capacity, size_t* needed) {
          check(vt_.encode(self_, text.data(), text.size(), flags, out, capacity, needed), *host_);
        },
        "tokenizer encode");
    return ids;
  }

  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string_view>& texts, int num_threads,
                                                 uint32_t flags = 0) const {
    std::vector<const char*> ptrs(texts.size());
    std::vector<size_t> lens(texts.size()), offsets(texts.size() + 1);
    size_t bytes = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      ptrs[i] = texts[i].data();
      lens[i] = texts[i].size();
      bytes += texts[i].size() + 16;
    }
    std::vector<int32_t> ids(bytes);
    read_array(
        ids,
        [&](int32_t* out, size_t capacity, size_t* needed) {
          check(vt_.encode_batch(self_, ptrs.data(), lens.data(), texts.size(), flags, num_threads, out, capacity,
                                 offsets.data(), needed),
                *host_);
        },
        "tokenizer encode_batch");
    std::vector<std::vector<int32_t>> out(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      if (offsets[i] > offsets[i + 1] || offsets[i + 1] > ids.size())
        throw Error(MSW_STATUS_INTERNAL, "tokenizer encode_batch: the plugin wrote offsets outside its ids");
      out[i].assign(ids.begin() + static_cast<std::ptrdiff_t>(offsets[i]),
                    ids.begin() + static_cast<std::ptrdiff_t>(offsets[i + 1]));
    }
    return out;
  }

  std::string decode(const std::vector<int32_t>& ids, uint32_t flags = 0) const {
    return read_text(
        [&](char* out, size_t capacity, size_t* needed) {
          check(vt_.decode(self_, ids.data(), ids.size(), flags, out, capacity, needed), *host_);
        },
        "tokenizer decode", ids.size() * 8 + 16);
  }

  int32_t vocab_size() const { return vt_.vocab_size(self_); }
  int32_t token_to_id(std::string_view token) const { return vt_.token_to_id(self_, token.data(), token.size()); }
  // False when the id has no token.
  bool id_to_token(int32_t id, std::string& out) const {
    size_t len = 0;
    const char* s = vt_.id_to_token(self_, id, &len);
    if (!s) return false;
    out.assign(s, len);
    return true;
  }
  int32_t special_token_id(msw_tokenizer_special which) const { return vt_.special_token_id(self_, which); }
  bool is_special(int32_t id) const { return vt_.is_special(self_, id) != 0; }

  class Stream {
   public:
    Stream(const TokenizerHandle& owner, uint32_t flags) : owner_(owner) {
      check(owner_.vt_.stream_create(owner_.self_, flags, &stream_), *owner_.host_);
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() { owner_.vt_.stream_destroy(stream_); }
    std::string step(int32_t id) {
      const char* text = nullptr;
      size_t len = 0;
      check(owner_.vt_.stream_step(stream_, id, &text, &len), *owner_.host_);
      return std::string(text ? text : "", text ? len : 0);
    }
    std::string flush() {
      const char* text = nullptr;
      size_t len = 0;
      check(owner_.vt_.stream_flush(stream_, &text, &len), *owner_.host_);
      return std::string(text ? text : "", text ? len : 0);
    }

   private:
    const TokenizerHandle& owner_;
    msw_tokenizer_stream* stream_ = nullptr;
  };
  Stream stream(uint32_t flags = 0) const { return Stream(*this, flags); }

 private:
  msw_tokenizer_vtable vt_;
  const msw_host_api* host_;
  void* self_ = nullptr;
};

}  // namespace megaswift::sdk
