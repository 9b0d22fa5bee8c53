// C++ layer for template plugins (megaswift/c/template.h).
//
// Derive from megaswift::sdk::Template, construct from the config JSON text, implement render() by
// appending segments to a RenderedTemplate, and register it:
//
//   MEGASWIFT_PLUGIN("chat_templates", "0.1.0",
//                    megaswift::sdk::template_component<QwenTemplate>("qwen", "0.1.0", "ChatML, Qwen"))
//
// The trampolines turn exceptions into statuses (guard), or into the entry's "nothing" for entries that
// return plain values, and implement render's side of the MSW buffer protocol: the result is built once
// per call and copied into the caller's buffers when both fit, each segment record written with the
// CALLER's segment_size (only the members that size covers).
//
// Caller side: TemplateHandle owns an instance made through a vtable and hides the buffer protocol, for
// the host's encoder and for tests. It reads each record through its struct_size: members a plugin of an
// older minor did not write read as zero.
#pragma once

#include <megaswift/c/template.h>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/records.hpp>
#include <megaswift/sdk/status.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace megaswift::sdk {

// The members every msw_template_segment has had since 2.0: a record shorter than this is malformed.
inline constexpr size_t kTemplateSegmentMinSize =
    offsetof(msw_template_segment, message_index) + sizeof(int32_t);
// The members every msw_render_args has had since 2.0.
inline constexpr size_t kRenderArgsMinSize = offsetof(msw_render_args, text_needed) + sizeof(size_t*);

// The segments of one rendering and the text they tile.
class RenderedTemplate {
 public:
  // Appends a segment; TEXT and SPECIAL carry text, BOS and EOS none (their text is ignored).
  void add(msw_template_segment_kind kind, std::string_view text, float loss_weight, int32_t message_index) {
    if (kind == MSW_TEMPLATE_SEGMENT_BOS || kind == MSW_TEMPLATE_SEGMENT_EOS) text = {};
    msw_template_segment s{};
    s.struct_size = sizeof(msw_template_segment);
    s.kind = kind;
    s.text_offset = text_.size();
    s.text_size = text.size();
    s.loss_weight = loss_weight;
    s.message_index = message_index;
    segments_.push_back(s);
    text_.append(text);
  }
  const std::string& text() const { return text_; }
  const std::vector<msw_template_segment>& segments() const { return segments_; }
  std::string_view segment_text(const msw_template_segment& s) const {
    return std::string_view(text_).substr(static_cast<size_t>(s.text_offset), static_cast<size_t>(s.text_size));
  }
  void clear() {
    text_.clear();
    segments_.clear();
  }

 private:
  friend class TemplateHandle;
  std::string text_;
  std::vector<msw_template_segment> segments_;
};

class Template {
 public:
  virtual ~Template() = default;
  // Renders one conversation (see template.h for both JSON formats); throws Error with
  // MSW_STATUS_INVALID_ARGUMENT or MSW_STATUS_UNSUPPORTED naming the problem. Must be thread-safe.
  virtual void render(std::string_view conversation_json, std::string_view options_json,
                      RenderedTemplate& out) const = 0;
  // The template's default system prompt; nullptr when it has none. Valid for the object's life.
  virtual const char* default_system() const = 0;
  // Stop words besides the tokenizer's EOS token; valid for the object's life.
  virtual const std::vector<std::string>& stop_words() const = 0;
  // The end-of-turn token text, nullptr when a turn ends with the tokenizer's EOS token.
  virtual const char* end_of_turn() const = 0;
  // The Hugging Face model_type values, a NULL-terminated static array; {"*", nullptr} for any model.
  virtual const char* const* model_types() const = 0;
};

namespace detail {

// The caller's args read through its struct_size: members it did not write are zero.
inline msw_render_args read_render_args(const msw_render_args* a) {
  return read_record(a, "render: args", kRenderArgsMinSize);
}

// Segment i into the caller's array, whose records are `segment_size` bytes: the bytes the caller's
// record has beyond ours are zeroed, and struct_size says how many we wrote.
inline void write_segment(const msw_template_segment& s, char* records, size_t segment_size, size_t i) {
  char* at = records + i * segment_size;
  const size_t n = std::min(segment_size, sizeof(msw_template_segment));
  std::memset(at, 0, segment_size);
  std::memcpy(at, &s, n);
  const uint32_t written = static_cast<uint32_t>(n);
  std::memcpy(at + offsetof(msw_template_segment, struct_size), &written, sizeof(written));
}

template <class T>
struct TemplateTrampolines {
  static const T& self(const void* p) { return self_cast_const<T>(p); }

  static msw_status* render(const void* p, const msw_render_args* args) noexcept {
    return guard([&] {
      const msw_render_args a = read_render_args(args);
      if (!a.conversation_json) throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: conversation_json is NULL");
      if (!a.segment_count || !a.text_needed)
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: segment_count and text_needed must not be NULL");
      if (a.segment_size < kTemplateSegmentMinSize)
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: segment_size " + std::to_string(a.segment_size) +
                                                     " is smaller than the " + std::to_string(kTemplateSegmentMinSize) +
                                                     " bytes of a 2.0 msw_template_segment");
      RenderedTemplate out;
      self(p).render(a.conversation_json, a.options_json ? std::string_view(a.options_json) : std::string_view("{}"),
                     out);
      const auto& segs = out.segments();
      const auto& txt = out.text();
      const size_t text_needed = txt.size() + 1;
      if (segs.size() <= a.segment_capacity && text_needed <= a.text_capacity) {
        if ((!segs.empty() && !a.segments) || !a.text)
          throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: a buffer is NULL but its capacity is not 0");
        for (size_t i = 0; i < segs.size(); ++i) write_segment(segs[i], reinterpret_cast<char*>(a.segments), a.segment_size, i);
        if (!txt.empty()) std::memcpy(a.text, txt.data(), txt.size());
        a.text[txt.size()] = '\0';
      }
      *a.segment_count = segs.size();
      *a.text_needed = text_needed;
    });
  }
  static const char* default_system(const void* p) noexcept {
    return guard_value<const char*>(nullptr, "template default_system", [&] { return self(p).default_system(); });
  }
  static size_t stop_word_count(const void* p) noexcept {
    return guard_value<size_t>(0, "template stop_word_count", [&] { return self(p).stop_words().size(); });
  }
  static const char* stop_word(const void* p, size_t index) noexcept {
    return guard_value<const char*>(nullptr, "template stop_word", [&]() -> const char* {
      const auto& words = self(p).stop_words();
      return index < words.size() ? words[index].c_str() : nullptr;
    });
  }
  static const char* end_of_turn(const void* p) noexcept {
    return guard_value<const char*>(nullptr, "template end_of_turn", [&] { return self(p).end_of_turn(); });
  }
  static const char* const* model_types(const void* p) noexcept {
    return guard_value<const char* const*>(nullptr, "template model_types", [&] { return self(p).model_types(); });
  }
};

}  // namespace detail

template <class T>
const msw_template_vtable* template_vtable() {
  static_assert(std::is_base_of<Template, T>::value, "T must derive from megaswift::sdk::Template");
  static const msw_template_vtable vt = [] {
    msw_template_vtable v{};
    v.struct_size = sizeof(msw_template_vtable);
    v.create = &create_instance<T>;
    v.destroy = &destroy_instance<T>;
    v.render = &detail::TemplateTrampolines<T>::render;
    v.default_system = &detail::TemplateTrampolines<T>::default_system;
    v.stop_word_count = &detail::TemplateTrampolines<T>::stop_word_count;
    v.stop_word = &detail::TemplateTrampolines<T>::stop_word;
    v.end_of_turn = &detail::TemplateTrampolines<T>::end_of_turn;
    v.model_types = &detail::TemplateTrampolines<T>::model_types;
    return v;
  }();
  return &vt;
}

// Caller side: one template instance, created through the plugin's vtable. render() may be called
// from several threads at once. Errors are thrown as Error with the plugin's status code.
class TemplateHandle {
 public:
  TemplateHandle(const msw_template_vtable& vt, const msw_host_api& host, const std::string& config_json)
      : vt_(vt), host_(&host) {
    void* self = nullptr;
    check(vt_.create(config_json.c_str(), &self), *host_);
    if (!self) throw Error(MSW_STATUS_INTERNAL, "template create succeeded but returned no instance");
    self_ = self;
  }
  TemplateHandle(const TemplateHandle&) = delete;
  TemplateHandle& operator=(const TemplateHandle&) = delete;
  ~TemplateHandle() {
    if (self_) vt_.destroy(self_);
  }

  // Renders into `out`, reusing its storage; grows it and renders again when it was too small.
  void render(const std::string& conversation_json, const std::string& options_json, RenderedTemplate& out) const {
    auto& segs = out.segments_;
    auto& text = out.text_;
    segs.resize(std::max<size_t>(segs.capacity(), 16));
    text.resize(std::max<size_t>(text.capacity(), 256));
    size_t count = 0, text_needed = 0;
    for (int attempt = 0;; ++attempt) {
      // Zeroed records: a plugin of an older minor leaves the members it does not know untouched.
      std::fill(segs.begin(), segs.end(), msw_template_segment{});
      msw_render_args a{};
      a.struct_size = sizeof(a);
      a.conversation_json = conversation_json.c_str();
      a.options_json = options_json.c_str();
      a.segments = segs.data();
      a.segment_capacity = segs.size();
      a.segment_size = sizeof(msw_template_segment);
      a.segment_count = &count;
      a.text = text.data();
      a.text_capacity = text.size();
      a.text_needed = &text_needed;
      check(vt_.render(self_, &a), *host_);
      if (text_needed == 0)
        throw Error(MSW_STATUS_INTERNAL, "template render reported 0 text bytes; the text always needs its NUL");
      if (count <= segs.size() && text_needed <= text.size()) break;
      if (attempt == kBufferAttempts - 1)
        throw Error(MSW_STATUS_INTERNAL, "template render: the plugin's result grew on every call");
      segs.resize(std::max(count, segs.size()));
      text.resize(std::max(text_needed, text.size()));
    }
    segs.resize(count);
    text.resize(text_needed - 1);
    for (auto& s : segs) normalize(s, text.size());
  }
  RenderedTemplate render(const std::string& conversation_json, const std::string& options_json = "{}") const {
    RenderedTemplate out;
    render(conversation_json, options_json, out);
    return out;
  }

  const char* default_system() const { return vt_.default_system(self_); }
  std::vector<std::string> stop_words() const {
    std::vector<std::string> out;
    for (size_t i = 0, n = vt_.stop_word_count(self_); i < n; ++i)
      if (const char* w = vt_.stop_word(self_, i)) out.emplace_back(w);
    return out;
  }
  const char* end_of_turn() const { return vt_.end_of_turn(self_); }
  // The model_type values the template is meant for; {"*"} for any model, empty when it does not say.
  std::vector<std::string> model_types() const {
    std::vector<std::string> out;
    const char* const* types = vt_.model_types(self_);
    for (size_t i = 0; types && types[i] && i < 1024; ++i) out.emplace_back(types[i]);
    return out;
  }

 private:
  static constexpr int kBufferAttempts = 4;

  // A record as this host reads it: members past the writer's struct_size are zero, and what it says
  // must lie inside the text.
  static void normalize(msw_template_segment& s, size_t text_size) {
    if (s.struct_size < kTemplateSegmentMinSize)
      throw Error(MSW_STATUS_INTERNAL, "template render wrote a segment with struct_size " +
                                           std::to_string(s.struct_size) + ", smaller than a 2.0 record (" +
                                           std::to_string(kTemplateSegmentMinSize) + " bytes)");
    if (s.struct_size < sizeof(s))
      std::memset(reinterpret_cast<char*>(&s) + s.struct_size, 0, sizeof(s) - s.struct_size);
    if (s.text_offset > text_size || s.text_size > text_size - s.text_offset)
      throw Error(MSW_STATUS_INTERNAL, "template render wrote a segment outside its text (offset " +
                                           std::to_string(s.text_offset) + ", size " + std::to_string(s.text_size) +
                                           ", text " + std::to_string(text_size) + " bytes)");
  }

  msw_template_vtable vt_;
  const msw_host_api* host_;
  void* self_ = nullptr;
};

template <class T>
msw_component template_component(const char* name, const char* version, const char* summary) {
  return make_component(MSW_KIND_TEMPLATE, name, version, summary, template_vtable<T>());
}

}  // namespace megaswift::sdk
