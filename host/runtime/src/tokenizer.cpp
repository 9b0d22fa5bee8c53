#include <megaswift/runtime/tokenizer.hpp>

#include "host/core/host_api.hpp"
#include "host/plugin_host/tokenizer_choice.hpp"
#include "host/runtime/src/tokenizer_impl.hpp"

#include <nlohmann/json.hpp>

#include <system_error>

namespace megaswift::runtime {

namespace fs = std::filesystem;

Tokenizer::Tokenizer(const Runtime& runtime, const fs::path& model_dir) : impl_(std::make_unique<Impl>()) {
  impl_->runtime = runtime.state_;
  const auto& registry = *impl_->runtime->registry;
  const std::string where = "the tokenizer of " + model_dir.string();
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec))
    throw Error(where + ": not a directory; pass a Hugging Face model directory (with tokenizer.json)");
  const auto candidates = registry.list(MSW_KIND_TOKENIZER);
  if (candidates.empty())
    throw Error(where + ": no tokenizer plugin is loaded (" + impl_->runtime->searched() +
                "); set RuntimeOptions::plugin_path or MEGASWIFT_PLUGIN_PATH to the folder with "
                "libmegaswift_tokenizer_hf_bpe.so");
  // The same choice as the front ends: every tokenizer plugin scores the directory, the highest wins.
  const host::TokenizerChoice choice = detail::translate(where, [&] { return host::choose_tokenizer(registry, model_dir); });
  const std::string config = nlohmann::json{{"model_dir", model_dir.string()}}.dump();
  impl_->handle = detail::translate(where, [&] {
    return std::make_unique<sdk::TokenizerHandle>(
        host::PluginRegistry::vtable_copy<msw_tokenizer_vtable>(*choice.component), host::host_api(), config);
  });
  impl_->plugin = choice.component->name;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool split_special_tokens) const {
  return detail::translate("tokenizer " + impl_->plugin + ": encode", [&] {
    return impl_->handle->encode(text, split_special_tokens ? uint32_t{MSW_TOKENIZER_SPLIT_SPECIAL_TOKENS} : 0u);
  });
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  return detail::translate("tokenizer " + impl_->plugin + ": decode", [&] {
    return impl_->handle->decode(ids, skip_special_tokens ? uint32_t{MSW_TOKENIZER_SKIP_SPECIAL_TOKENS} : 0u);
  });
}

int32_t Tokenizer::vocab_size() const { return impl_->handle->vocab_size(); }

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  const int32_t id = impl_->handle->token_to_id(token);
  return id < 0 ? std::nullopt : std::optional<int32_t>(id);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  std::string token;
  if (!impl_->handle->id_to_token(id, token)) return std::nullopt;
  return token;
}

namespace {
std::optional<int32_t> special(const sdk::TokenizerHandle& h, msw_tokenizer_special which) {
  const int32_t id = h.special_token_id(which);
  return id < 0 ? std::nullopt : std::optional<int32_t>(id);
}
}  // namespace

std::optional<int32_t> Tokenizer::bos_id() const { return special(*impl_->handle, MSW_TOKENIZER_BOS); }
std::optional<int32_t> Tokenizer::eos_id() const { return special(*impl_->handle, MSW_TOKENIZER_EOS); }
std::optional<int32_t> Tokenizer::pad_id() const { return special(*impl_->handle, MSW_TOKENIZER_PAD); }

const std::string& Tokenizer::plugin_name() const { return impl_->plugin; }

}  // namespace megaswift::runtime
