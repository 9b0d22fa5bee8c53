// What `swift infer` answers with: the model (an HF directory or a Megatron checkpoint beside its config and
// tokenizer), its tokenizer and chat template, the generation settings (flags over the model's
// generation_config.json), and a KV-cache decoder. A conversation in, the answer's text out, streamed or whole;
// several conversations are decoded together (continuous batching over --max_batch_size rows).
#pragma once

#include "host/config/args.hpp"
#include "host/data/pipeline/encoding.hpp"
#include "host/inference/generator.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::inference {

struct Conversation {
  std::optional<std::string> system;  // replaces the template's default system prompt
  std::vector<std::pair<std::string, std::string>> messages;  // (role, content), ending with a user message
};

struct Answer {
  std::string text;
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::string finish_reason;
};

class ChatEngine {
 public:
  // Reads the infer flags (model/mcore_model, template, system, max_length, max_new_tokens, temperature, top_k,
  // top_p, repetition_penalty, seed, max_batch_size). HostError / DataPipelineError name what is missing.
  ChatEngine(const config::ParsedArgs& args, const host::PluginRegistry& registry);
  ~ChatEngine();

  // One answer; `on_text` receives the text as it is generated (never a split UTF-8 character), if given.
  Answer answer(const Conversation& conversation, const std::function<void(const std::string&)>& on_text = {});
  // Answers decoded together, in order.
  std::vector<Answer> answer_all(const std::vector<Conversation>& conversations);

  const std::filesystem::path& model_dir() const { return model_dir_; }
  const GenerationOptions& generation() const { return generation_; }
  const data::Encoding& encoding() const { return *encoding_; }
  // The prompt ids of a conversation; HostError when longer than --max_length.
  std::vector<int64_t> prompt_ids(const Conversation& conversation) const;

 private:
  std::vector<Answer> run(const std::vector<Conversation>& conversations,
                          const std::function<void(const std::string&)>& on_text);
  std::string text_of(const std::vector<int64_t>& tokens) const;

  std::filesystem::path model_dir_;
  std::unique_ptr<host::ModelRunner> model_;
  std::unique_ptr<data::Encoding> encoding_;
  GenerationOptions generation_;
  std::vector<std::string> stop_words_;
  std::optional<std::size_t> max_length_;
  int64_t max_new_tokens_ = 0, max_batch_size_ = 1, max_positions_ = 0;
  bool clean_up_spaces_ = false;
};

// Hugging Face's clean_up_tokenization_spaces: " ." -> ".", " ?" -> "?", " !" -> "!", " ," -> ",", " ' " -> "'",
// " n't" -> "n't", " 'm" -> "'m", " 's" -> "'s", " 've" -> "'ve", " 're" -> "'re".
std::string clean_up_tokenization_spaces(std::string text);

}  // namespace megaswift::inference
