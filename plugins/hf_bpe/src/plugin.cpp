// The hf_bpe plugin: HfTokenizer behind the SDK's tokenizer vtable.
#include "hf_tokenizer.hpp"
#include "stream_decoder.hpp"

#include <megaswift/sdk/tokenizer.hpp>

namespace {

class HfBpeStream final : public megaswift::sdk::TokenizerStream {
 public:
  HfBpeStream(const hf_bpe::HfTokenizer& t, bool skip_special) : decoder_(t, skip_special) {}
  std::string_view step(int32_t id) override { return decoder_.step(id); }
  std::string_view flush() override { return decoder_.flush(); }

 private:
  hf_bpe::StreamDecoder decoder_;
};

class HfBpe final : public megaswift::sdk::Tokenizer {
 public:
  explicit HfBpe(std::string_view config_json) : tok_(hf_bpe::TokenizerFiles::from_config(config_json)) {}
  // 100 for a Hugging Face tokenizer.json with a BPE model this plugin reads, 0 without one.
  static int32_t probe(std::string_view model_dir) { return hf_bpe::probe_model_dir(std::string(model_dir)); }

  std::vector<int32_t> encode(std::string_view text, uint32_t flags) const override {
    return tok_.encode(text, (flags & MSW_TOKENIZER_SPLIT_SPECIAL_TOKENS) != 0);
  }
  std::string decode(const int32_t* ids, size_t count, uint32_t flags) const override {
    return tok_.decode(ids, count, (flags & MSW_TOKENIZER_SKIP_SPECIAL_TOKENS) != 0);
  }
  int32_t vocab_size() const override { return tok_.vocab_size(); }
  int32_t token_to_id(std::string_view token) const override { return tok_.token_to_id(token); }
  const std::string* id_to_token(int32_t id) const override { return tok_.id_to_token(id); }
  int32_t special_token_id(msw_tokenizer_special which) const override {
    return tok_.special_id(static_cast<hf_bpe::Special>(which));
  }
  bool is_special(int32_t id) const override { return tok_.is_special(id); }
  std::unique_ptr<megaswift::sdk::TokenizerStream> make_stream(uint32_t flags) const override {
    return std::make_unique<HfBpeStream>(tok_, (flags & MSW_TOKENIZER_SKIP_SPECIAL_TOKENS) != 0);
  }

 private:
  hf_bpe::HfTokenizer tok_;
};

}  // namespace

MEGASWIFT_PLUGIN("hf_bpe", "0.1.0",
                 megaswift::sdk::tokenizer_component<HfBpe>(
                     "hf_bpe", "0.1.0", "byte-level BPE from Hugging Face tokenizer.json (Qwen2/2.5/3, Llama 3)"))
