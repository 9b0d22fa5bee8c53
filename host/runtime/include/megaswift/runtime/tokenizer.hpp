// The tokenizer of a Hugging Face model directory, through a tokenizer plugin (hf_bpe reads tokenizer.json and
// tokenizer_config.json).
#pragma once

#include <megaswift/runtime/export.hpp>
#include <megaswift/runtime/runtime.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::runtime {

class MEGASWIFT_RUNTIME_API Tokenizer {
 public:
  // The first tokenizer plugin, in the order the registry loaded them, that accepts the directory. Throws Error
  // with each plugin's reason when none does.
  Tokenizer(const Runtime& runtime, const std::filesystem::path& model_dir);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // HF's tokenizer.encode(text, add_special_tokens=False): no BOS/EOS is added. Special tokens written in the
  // text become their ids unless split_special_tokens is true (use that for untrusted text). Invalid UTF-8 is
  // replaced with U+FFFD. Thread-safe, as are decode and the lookups.
  std::vector<int32_t> encode(std::string_view text, bool split_special_tokens = false) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  int32_t vocab_size() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;

  // The plugin component that reads this directory, e.g. "hf_bpe".
  const std::string& plugin_name() const;

 private:
  friend class Template;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace megaswift::runtime
