// tokenizer.json as the hf_bpe tokenizer plugin loads it (plugins/hf_bpe: HfTokenizer), then used the way
// training and inference use it: encode text with special tokens, decode every id, stream bytes per token.
#include "fuzz_support.hpp"
#include "hf_tokenizer.hpp"

#include <megaswift/sdk/status.hpp>

#include <algorithm>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = msw_fuzz::scratch().write("tokenizer.json", msw_fuzz::as_text(data, size));
  try {
    hf_bpe::TokenizerFiles files;
    files.tokenizer_json = path.string();
    const hf_bpe::HfTokenizer tok(files);
    // Mixed scripts, whitespace runs, a chat marker and an invalid UTF-8 byte: each pipeline stage sees work.
    static const std::string kText = "Hello  world!\n\t<|im_start|>user 你好, 123 ÿ\xff café";
    std::vector<int32_t> ids = tok.encode(kText, false);
    (void)tok.encode(kText, true);
    (void)tok.decode(ids.data(), ids.size(), false);
    (void)tok.canonical_text(kText);
    const int32_t n = std::min<int32_t>(tok.vocab_size(), 512);
    ids.resize(static_cast<size_t>(std::max(n, 0)));
    for (int32_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = i;
    (void)tok.decode(ids.data(), ids.size(), true);
    if (tok.streamable())
      for (int32_t i = 0; i < n; ++i) (void)tok.token_bytes(i, i == 0);
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}
