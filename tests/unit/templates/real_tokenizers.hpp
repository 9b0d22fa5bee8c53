// The reference tokenizers (Qwen's and Llama 3's tokenizer.json from the npm packages that
// tests/fixtures/tokenizers/fetch.sh fetches) loaded through the hf_bpe plugin, as the host loads them.
#pragma once

#include <megaswift/sdk/tokenizer.hpp>

#include <memory>
#include <string>

namespace megaswift::test {

// name: "qwen3" (the Qwen2/2.5/3 BPE) or "llama3". One shared instance per name.
const sdk::TokenizerHandle& real_tokenizer(const std::string& name);

}  // namespace megaswift::test
