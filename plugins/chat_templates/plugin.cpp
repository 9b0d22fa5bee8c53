// The first-party template plugin: ms-swift's chat layouts for Qwen, Qwen2.5, Qwen3 and Llama 3,
// its plain-text `default` layout, and the generative layout of `megatron pt`.
#include "chat_template.hpp"

#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/template.hpp>

namespace ct = megaswift::chat_templates;
using megaswift::sdk::template_component;

MEGASWIFT_PLUGIN("chat_templates", "0.1.0",
                 template_component<ct::QwenTemplate>("qwen", "0.1.0", "ChatML, default system 'You are a helpful assistant.'"),
                 template_component<ct::Qwen2_5Template>("qwen2_5", "0.1.0", "ChatML with Qwen2.5's default system prompt"),
                 template_component<ct::Qwen3Template>("qwen3", "0.1.0", "ChatML for Qwen3 hybrid-thinking models, no default system"),
                 template_component<ct::Llama3Template>("llama3", "0.1.0", "Llama 3 Instruct headers and <|eot_id|>"),
                 template_component<ct::DefaultTemplate>("default", "0.1.0", "plain '### Human:/### Assistant:' layout, no special tokens"),
                 template_component<ct::GenerativeTemplate>("generative", "0.1.0", "[bos] text eos for pre-training (megatron pt)"))
