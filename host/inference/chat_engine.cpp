#include "host/inference/flag_values.hpp"
#include "host/inference/chat_engine.hpp"

#include "host/checkpoint/load.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host/data/pipeline/model_dir.hpp"
#include "host/data/pipeline/template_choice.hpp"
#include "host/training/device_choice.hpp"
#include "host/inference/kv_decoder.hpp"
#include "host/training/model_source.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::inference {

using host::HostError;

namespace {

bool has_weights(const fs::path& dir) {
  return fs::exists(dir / "model.safetensors") || fs::exists(dir / "model.safetensors.index.json");
}

json read_json_if_present(const fs::path& file, const char* what) {
  if (!fs::exists(file)) return json::object();
  try {
    return json::parse(host::read_text_file(file, what));
  } catch (const json::exception& e) {
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, file.string() + " is not valid JSON (" + e.what() + ")");
  }
}

// The model's generation_config.json under the flags, as ms-swift does: a flag wins; without flags a model whose
// config samples (do_sample true) keeps its temperature/top_k/top_p, others decode greedily.
SamplingOptions sampling_options(const config::ParsedArgs& a, const json& gen) {
  SamplingOptions s;
  const bool samples = gen.value("do_sample", false);
  s.temperature = number_flag<double>(a, "temperature").value_or(samples ? gen.value("temperature", 1.0) : 0.0);
  s.top_k = number_flag<int64_t>(a, "top_k").value_or(samples ? gen.value("top_k", int64_t{0}) : 0);
  s.top_p = number_flag<double>(a, "top_p").value_or(samples ? gen.value("top_p", 1.0) : 1.0);
  s.repetition_penalty = number_flag<double>(a, "repetition_penalty").value_or(gen.value("repetition_penalty", 1.0));
  s.seed = static_cast<uint64_t>(a.get<int64_t>("seed"));
  return s;
}

std::vector<int64_t> eos_ids_of(const json& gen, const json& config, const sdk::TokenizerHandle& tok) {
  std::vector<int64_t> ids;
  auto add = [&](const json& v) {
    if (v.is_number_integer()) ids.push_back(v.get<int64_t>());
    if (v.is_array())
      for (const auto& x : v)
        if (x.is_number_integer()) ids.push_back(x.get<int64_t>());
  };
  if (gen.contains("eos_token_id")) add(gen["eos_token_id"]);
  else if (config.contains("eos_token_id")) add(config["eos_token_id"]);
  const int32_t eos = tok.special_token_id(MSW_TOKENIZER_EOS);
  if (eos >= 0) ids.push_back(eos);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

std::string clean_up_tokenization_spaces(std::string text) {
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : rules) {
    const std::string f(from), t(to);
    for (size_t at = text.find(f); at != std::string::npos; at = text.find(f, at + t.size())) text.replace(at, f.size(), t);
  }
  return text;
}

ChatEngine::ChatEngine(const config::ParsedArgs& a, const host::PluginRegistry& registry) {
  // The model: --model (an HF directory), or --mcore_model/--load (a Megatron checkpoint with config.json and the
  // tokenizer beside it, as swift export and megatron sft save them; --model gives them otherwise).
  const auto mcore = text_flag(a, "mcore_model");
  std::optional<host::OpenCheckpoint> ckpt;
  if (mcore) {
    host::LoadOptions lo;
    lo.finetune = true;  // weights only
    ckpt = host::open_checkpoint(registry, *mcore, lo);
  }
  const auto model = text_flag(a, "model");
  if (model && fs::is_directory(*model)) model_dir_ = *model;
  else if (mcore && fs::exists(fs::path(*mcore) / "config.json")) model_dir_ = *mcore;
  else if (model)
    throw HostError(MSW_STATUS_NOT_FOUND, "--model " + *model + " is not a local directory; Megaswift does not download "
                                          "models: pass a Hugging Face model directory");
  else if (mcore)
    throw HostError(MSW_STATUS_NOT_FOUND, "--mcore_model " + *mcore + " has no config.json beside the checkpoint; pass "
                                          "--model <the Hugging Face directory it was converted from> for its config "
                                          "and tokenizer");
  else
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "nothing to chat with: pass --model <Hugging Face directory> or "
                                                 "--mcore_model <Megatron checkpoint directory>");
  if (!ckpt && !has_weights(model_dir_))
    throw HostError(MSW_STATUS_NOT_FOUND, model_dir_.string() + " has no weights (model.safetensors or "
                                          "model.safetensors.index.json): pass a trained model, or --mcore_model <checkpoint>");

  // Tokenizer and template first: a directory without tokenizer files fails before the weights are read.
  const data::ModelDirectory dir = data::open_model_directory(model_dir_.string());
  const data::TemplateChoice tmpl = data::choose_template(config::Command::infer, text_flag(a, "template"), dir);
  data::EncoderOptions eo;
  if (auto v = number_flag<std::size_t>(a, "max_length")) max_length_ = v;
  else max_length_ = dir.max_model_len;
  encoding_ = std::make_unique<data::Encoding>(registry, model_dir_, tmpl.name, eo);
  spdlog::info("infer: template {} ({}), tokenizer {}", tmpl.name, tmpl.why, encoding_->tokenizer_name());

  host::RunnerOptions ro;
  ro.device = training::choose_device(a.get<std::string>("device"));
  ro.seed = static_cast<uint64_t>(a.get<int64_t>("seed"));
  ro.num_threads = static_cast<int>(a.get<int64_t>("num_threads"));
  // On a GPU the weights compute in the model's dtype (--torch_dtype, else config.json's), as transformers loads
  // them; the CPU decodes in fp32, its kernels' precision.
  if (ro.device.type != MSW_DEVICE_CPU) {
    const json& td = a.at("torch_dtype");
    const std::string dtype = td.is_string() ? td.get<std::string>() : training::config_weight_dtype(dir.config);
    if (dtype == "bfloat16") ro.compute_dtype = MSW_DTYPE_BF16;
  }
  model_ = std::make_unique<host::ModelRunner>(training::build_model(registry, model_dir_, ckpt ? &*ckpt : nullptr, ro, false));
  max_positions_ = model_->info().max_position_embeddings;

  const json gen = read_json_if_present(model_dir_ / "generation_config.json", "generation config");
  const json tok_config = read_json_if_present(model_dir_ / "tokenizer_config.json", "tokenizer config");
  clean_up_spaces_ = tok_config.value("clean_up_tokenization_spaces", false);
  generation_.sampling = sampling_options(a, gen);
  generation_.eos_ids = eos_ids_of(gen, dir.config, encoding_->tokenizer());
  stop_words_ = encoding_->chat_template().stop_words();
  max_new_tokens_ = number_flag<int64_t>(a, "max_new_tokens").value_or(0);
  max_batch_size_ = a.get<int64_t>("max_batch_size");
  size_t longest_stop = 0;
  for (const auto& w : stop_words_) longest_stop = std::max(longest_stop, w.size());
  generation_.stop = [this, longest_stop](size_t, const std::vector<int64_t>& generated) {
    if (stop_words_.empty()) return false;
    // Every token decodes to at least one byte, so a stop word of L bytes lies within the last L tokens: decoding
    // only those keeps the check O(1) per token instead of re-decoding the whole answer.
    const size_t tail = std::min(generated.size(), longest_stop);
    const std::string text = text_of(std::vector<int64_t>(generated.end() - static_cast<std::ptrdiff_t>(tail), generated.end()));
    for (const auto& w : stop_words_)
      if (!w.empty() && text.size() >= w.size() && text.compare(text.size() - w.size(), w.size(), w) == 0) return true;
    return false;
  };
  spdlog::info("infer: {} ({} parameters) on the {}, {}, max_new_tokens {}", model_dir_.string(), model_->num_parameters(),
               training::device_text(ro.device),
               generation_.sampling.greedy() ? std::string("greedy decoding")
                                             : "sampling (temperature " + std::to_string(generation_.sampling.temperature) + ")",
               max_new_tokens_ ? std::to_string(max_new_tokens_) : std::string("unset (2048 or the context)"));
}

ChatEngine::~ChatEngine() = default;

std::vector<int64_t> ChatEngine::prompt_ids(const Conversation& c) const {
  json messages = json::array();
  if (c.system) messages.push_back({{"role", "system"}, {"content", *c.system}});
  for (const auto& [role, content] : c.messages) messages.push_back({{"role", role}, {"content", content}});
  const std::vector<int32_t> ids = encoding_->encoder().encode_prompt(json{{"messages", messages}}.dump());
  if (max_length_ && ids.size() > *max_length_)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "the prompt has " + std::to_string(ids.size()) +
                                                     " tokens, more than --max_length " + std::to_string(*max_length_) +
                                                     ": shorten the conversation (or 'clear' the history) or raise --max_length");
  return {ids.begin(), ids.end()};
}

std::string ChatEngine::text_of(const std::vector<int64_t>& tokens) const {
  const std::vector<int32_t> ids(tokens.begin(), tokens.end());
  return encoding_->tokenizer().decode(ids);
}

std::vector<Answer> ChatEngine::run(const std::vector<Conversation>& conversations,
                                    const std::function<void(const std::string&)>& on_text) {
  std::vector<std::vector<int64_t>> prompts;
  int64_t longest = 0;
  for (const auto& c : conversations) {
    prompts.push_back(prompt_ids(c));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(prompts.back().size()));
  }
  if (prompts.empty()) return {};
  GenerationOptions g = generation_;
  const int64_t room = max_positions_ > 0 ? max_positions_ - longest : 2048;
  if (room < 1)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "the prompt has " + std::to_string(longest) +
                                                     " tokens, which fills the model's max_position_embeddings " +
                                                     std::to_string(max_positions_) + ": shorten the conversation");
  g.max_new_tokens = max_new_tokens_ ? std::min(max_new_tokens_, room) : std::min<int64_t>(2048, room);
  const int64_t rows = std::min<int64_t>(max_batch_size_, static_cast<int64_t>(prompts.size()));
  KvDecoder decoder(*model_, rows, longest + g.max_new_tokens);

  // Streaming (one conversation): the tokenizer's stream decoder never splits a UTF-8 character; an eos is not
  // printed, and a stop word's text is held back until it is clear it is not one.
  std::optional<sdk::TokenizerHandle::Stream> stream;
  std::string pending;
  if (on_text) {
    stream.emplace(encoding_->tokenizer(), 0u);
    g.on_token = [&](size_t, int64_t token) {
      if (std::find(g.eos_ids.begin(), g.eos_ids.end(), token) != g.eos_ids.end()) return;
      pending += stream->step(static_cast<int32_t>(token));
      size_t keep = 0;  // the longest tail of `pending` that may still become a stop word
      for (const auto& w : stop_words_)
        for (size_t n = std::min(w.size(), pending.size()); n > keep; --n)
          if (pending.compare(pending.size() - n, n, w, 0, n) == 0) {
            keep = n;
            break;
          }
      if (clean_up_spaces_ && keep == 0 && !pending.empty() && pending.back() == ' ') keep = 1;  // " ." may follow
      std::string out = pending.substr(0, pending.size() - keep);
      pending.erase(0, pending.size() - keep);
      if (clean_up_spaces_) out = clean_up_tokenization_spaces(out);
      if (!out.empty()) on_text(out);
    };
  }
  const std::vector<Generation> gens = generate(decoder, prompts, g);
  if (stream) {
    std::string rest = pending + stream->flush();
    for (const auto& w : stop_words_)
      if (!w.empty() && rest.size() >= w.size() && rest.compare(rest.size() - w.size(), w.size(), w) == 0)
        rest.erase(rest.size() - w.size());
    if (clean_up_spaces_) rest = clean_up_tokenization_spaces(rest);
    if (!rest.empty()) on_text(rest);
  }

  std::vector<Answer> answers;
  for (const Generation& gen : gens) {
    spdlog::debug("infer: {} prompt tokens, {} generated ({}): {}", gen.prompt_tokens, gen.tokens.size(),
                  gen.finish_reason, json(gen.tokens).dump());
    std::vector<int64_t> tokens = gen.tokens;
    if (!tokens.empty() && std::find(g.eos_ids.begin(), g.eos_ids.end(), tokens.back()) != g.eos_ids.end())
      tokens.pop_back();
    std::string text = text_of(tokens);
    for (const auto& w : stop_words_)
      if (!w.empty() && text.size() >= w.size() && text.compare(text.size() - w.size(), w.size(), w) == 0) {
        text.erase(text.size() - w.size());
        break;
      }
    if (clean_up_spaces_) text = clean_up_tokenization_spaces(text);
    answers.push_back({text, gen.prompt_tokens, static_cast<int64_t>(gen.tokens.size()), gen.finish_reason});
  }
  return answers;
}

Answer ChatEngine::answer(const Conversation& c, const std::function<void(const std::string&)>& on_text) {
  return run({c}, on_text).front();
}

std::vector<Answer> ChatEngine::answer_all(const std::vector<Conversation>& conversations) {
  return run(conversations, {});
}

}  // namespace megaswift::inference
