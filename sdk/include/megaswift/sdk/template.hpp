// C++ layer for template plugins (megaswift/c/template.h).
//
// Derive from megaswift::sdk::Template, construct from the config JSON text, implement render() by
// appending segments to a RenderedTemplate, and register it:
//
//   MEGASWIFT_PLUGIN("chat_templates", "0.1.0",
//                    megaswift::sdk::template_component<QwenTemplate>("qwen", "0.1.0", "ChatML, Qwen"))
//
// The trampolines turn exceptions into statuses (guard) and implement the buffer protocol of
// render: the result is built once per call and copied into the caller's buffers when they fit.
//
// Caller side: TemplateHandle owns an instance made through a vtable and hides the buffer protocol,
// for the host's encoder and for tests.
#pragma once

#include <megaswift/c/template.h>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/status.hpp>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::sdk {

// The segments of one rendering and the text they tile.
class RenderedTemplate {
 public:
  // Appends a segment; TEXT and SPECIAL carry text, BOS and EOS none (their text is ignored).
  void add(msw_template_segment_kind kind, std::string_view text, float loss_weight, int32_t message_index) {
    if (kind == MSW_TEMPLATE_SEGMENT_BOS || kind == MSW_TEMPLATE_SEGMENT_EOS) text = {};
    msw_template_segment s{};
    s.text_offset = text_.size();
    s.text_size = text.size();
    s.kind = kind;
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
  // Comma-separated Hugging Face model_type values, or "*"; static.
  virtual const char* model_types() const = 0;
};

namespace detail {

template <class T>
struct TemplateTrampolines {
  static const T& self(const void* p) { return self_cast<T>(const_cast<void*>(p)); }

  static msw_status* render(const void* p, const char* conversation_json, const char* options_json,
                            msw_template_segment* segments, size_t segment_capacity, size_t* segment_count,
                            char* text, size_t text_capacity, size_t* text_size) noexcept {
    return guard([&] {
      if (!conversation_json) throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: conversation_json is NULL");
      if (!segment_count || !text_size)
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: segment_count and text_size must not be NULL");
      RenderedTemplate out;
      self(p).render(conversation_json, options_json ? std::string_view(options_json) : std::string_view("{}"), out);
      const auto& segs = out.segments();
      const auto& txt = out.text();
      if (segs.size() <= segment_capacity && txt.size() <= text_capacity) {
        if ((!segs.empty() && !segments) || (!txt.empty() && !text))
          throw Error(MSW_STATUS_INVALID_ARGUMENT, "render: a buffer is NULL but its capacity is not 0");
        if (!segs.empty()) std::memcpy(segments, segs.data(), segs.size() * sizeof(msw_template_segment));
        if (!txt.empty()) std::memcpy(text, txt.data(), txt.size());
      }
      *segment_count = segs.size();
      *text_size = txt.size();
    });
  }
  // The queries cannot report errors; a NULL instance answers "nothing".
  static const char* default_system(const void* p) noexcept { return p ? self(p).default_system() : nullptr; }
  static size_t stop_word_count(const void* p) noexcept { return p ? self(p).stop_words().size() : 0; }
  static const char* stop_word(const void* p, size_t index) noexcept {
    if (!p) return nullptr;
    const auto& words = self(p).stop_words();
    return index < words.size() ? words[index].c_str() : nullptr;
  }
  static const char* end_of_turn(const void* p) noexcept { return p ? self(p).end_of_turn() : nullptr; }
  static const char* model_types(const void* p) noexcept { return p ? self(p).model_types() : "*"; }
};

}  // namespace detail

template <class T>
const msw_template_vtable* template_vtable() {
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
    check_status(vt_.create(config_json.c_str(), &self));
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
    segs.resize(segs.capacity());
    text.resize(text.capacity());
    size_t count = 0, size = 0;
    for (int attempt = 0; attempt < 2; ++attempt) {
      check_status(vt_.render(self_, conversation_json.c_str(), options_json.c_str(), segs.data(), segs.size(), &count,
                              text.data(), text.size(), &size));
      if (count <= segs.size() && size <= text.size()) break;
      if (attempt == 1) throw Error(MSW_STATUS_INTERNAL, "template render: the plugin's result changed size between calls");
      segs.resize(count);
      text.resize(size);
    }
    segs.resize(count);
    text.resize(size);
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
  const char* model_types() const { return vt_.model_types(self_); }

 private:
  void check_status(msw_status* s) const {
    if (!s) return;
    Error error(static_cast<msw_status_code>(host_->status_code(s)), host_->status_message(s));
    host_->status_free(s);
    throw error;
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
