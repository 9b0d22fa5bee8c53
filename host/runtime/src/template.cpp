#include <megaswift/runtime/template.hpp>

#include "host/core/host_api.hpp"
#include "host/data/encoder/sample_encoder.hpp"
#include "host/runtime/src/tokenizer_impl.hpp"

#include <nlohmann/json.hpp>

namespace megaswift::runtime {

struct Template::Impl {
  std::shared_ptr<const detail::RuntimeState> runtime;
  std::string name;
  std::unique_ptr<sdk::TemplateHandle> handle;
};

namespace {

std::string conversation_json(const std::vector<Message>& messages) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : messages) list.push_back({{"role", m.role}, {"content", m.content}});
  return nlohmann::json{{"messages", std::move(list)}}.dump();
}

}  // namespace

Template::Template(const Runtime& runtime, const std::string& name) : impl_(std::make_unique<Impl>()) {
  impl_->runtime = runtime.state_;
  impl_->name = name;
  impl_->handle = detail::translate("template '" + name + "'", [&] {
    const host::LoadedComponent& c = impl_->runtime->registry->require(MSW_KIND_TEMPLATE, name);
    return std::make_unique<sdk::TemplateHandle>(host::PluginRegistry::vtable_copy<msw_template_vtable>(c),
                                                 host::host_api(), "{}");
  });
}

Template::~Template() = default;
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;

const std::string& Template::name() const { return impl_->name; }

EncodedConversation Template::encode_json(const Tokenizer& tokenizer, const std::string& conversation) const {
  return detail::translate("template '" + impl_->name + "'", [&] {
    const data::SampleEncoder encoder(*impl_->handle, *tokenizer.impl_->handle, data::EncoderOptions{});
    data::EncodeResult r = encoder.encode(conversation);
    if (r.outcome == data::EncodeResult::Outcome::Malformed) throw Error("template '" + impl_->name + "': " + r.error);
    if (r.samples.size() != 1)
      throw Error("template '" + impl_->name + "': the conversation gave " + std::to_string(r.samples.size()) +
                  " samples instead of one");
    return EncodedConversation{std::move(r.samples[0].input_ids), std::move(r.samples[0].labels)};
  });
}

EncodedConversation Template::encode(const Tokenizer& tokenizer, const std::vector<Message>& messages) const {
  return encode_json(tokenizer, conversation_json(messages));
}

std::vector<int32_t> Template::encode_prompt(const Tokenizer& tokenizer, const std::vector<Message>& messages) const {
  return detail::translate("template '" + impl_->name + "'", [&] {
    const data::SampleEncoder encoder(*impl_->handle, *tokenizer.impl_->handle, data::EncoderOptions{});
    return encoder.encode_prompt(conversation_json(messages));
  });
}

}  // namespace megaswift::runtime
