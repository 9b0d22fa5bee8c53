// A chat template plugin (qwen, qwen2_5, qwen3, llama3, default, generative) with a model's tokenizer: a
// conversation -> input_ids and labels, as `megatron sft` (and, with "generative", `megatron pt`) encodes its data.
#pragma once

#include <megaswift/runtime/export.hpp>
#include <megaswift/runtime/runtime.hpp>
#include <megaswift/runtime/tokenizer.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace megaswift::runtime {

struct Message {
  std::string role;  // system (first only), user, assistant, tool
  std::string content;
};

struct EncodedConversation {
  std::vector<int32_t> input_ids;
  // HF-style, as ms-swift makes them: labels[t] == input_ids[t] where the token is trained, -100 elsewhere.
  // shift_labels() (model.hpp) turns them into the targets Model takes.
  std::vector<int32_t> labels;
};

class MEGASWIFT_RUNTIME_API Template {
 public:
  // Throws Error listing the template plugins when there is none named `name`.
  Template(const Runtime& runtime, const std::string& name);
  ~Template();
  Template(Template&&) noexcept;
  Template& operator=(Template&&) noexcept;

  const std::string& name() const;

  // A training sample of a conversation that ends with an assistant message (loss on the assistant turns, as
  // ms-swift's default loss_scale). Throws Error when the template refuses the conversation or does not fit the
  // tokenizer (e.g. the tokenizer has no EOS token). The tokenizer is only used during the call.
  EncodedConversation encode(const Tokenizer& tokenizer, const std::vector<Message>& messages) const;
  // The same for a conversation in the template JSON of the plugin ABI:
  // {"messages": [{"role": ..., "content": ...}, ...], "system": ...} or {"text": "..."} for pre-training text.
  // A message's "loss" may switch its loss off or on; fractional loss weights are not returned (trained is trained).
  EncodedConversation encode_json(const Tokenizer& tokenizer, const std::string& conversation_json) const;
  // The prompt ids for generation of a conversation that ends with a user message (ends with the assistant
  // header for the model to continue).
  std::vector<int32_t> encode_prompt(const Tokenizer& tokenizer, const std::vector<Message>& messages) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace megaswift::runtime
