#include "host/data/pipeline/template_choice.hpp"

#include "host/data/pipeline/error.hpp"
#include "host/data/pipeline/model_dir.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <string_view>

namespace megaswift::data {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// The template ms-swift registers for a model id like the directory's name, within the model_type's family.
std::optional<std::string> by_name(const std::string& model_type, const std::string& dir_name) {
  const std::string n = lower(dir_name);
  if (model_type.rfind("qwen", 0) == 0 || model_type.empty()) {
    if (contains(n, "qwen3")) return "qwen3";
    if (contains(n, "qwen2.5") || contains(n, "qwen2_5")) return "qwen2_5";
    if (contains(n, "qwen2")) return "qwen";
  }
  if (model_type == "llama" || model_type.empty()) {
    if (contains(n, "llama-3") || contains(n, "llama3") || contains(n, "llama_3")) {
      if (contains(n, "3.2") || contains(n, "3_2"))
        spdlog::warn("{}: ms-swift uses its llama3_2 template for Llama 3.2 (a 'Cutting Knowledge Date' system "
                     "header), which Megaswift does not have; using llama3. Pass --template to choose another",
                     dir_name);
      return "llama3";
    }
  }
  return std::nullopt;
}

std::optional<std::string> by_model_type(const std::string& model_type) {
  if (model_type == "qwen2") return "qwen2_5";
  if (model_type == "qwen2_moe") return "qwen";
  if (model_type == "qwen3" || model_type == "qwen3_moe") return "qwen3";
  if (model_type == "llama") return "llama3";
  return std::nullopt;
}

}  // namespace

TemplateChoice choose_template(config::Command command, const std::optional<std::string>& template_flag,
                               const ModelDirectory& model) {
  if (command == config::Command::pt) {
    if (template_flag)
      spdlog::info("megatron pt trains on the generation form of --template {} ([bos] text eos, loss on every "
                   "token): the generative template", *template_flag);
    return {"generative", "megatron pt trains plain text"};
  }
  if (template_flag) return {*template_flag, "--template"};
  const std::string name = model.name();
  if (auto t = by_name(model.model_type, name)) return {*t, "the model directory's name '" + name + "'"};
  if (auto t = by_model_type(model.model_type))
    return {*t, "config.json's model_type '" + model.model_type + "'; the directory name '" + name +
                    "' does not tell the model generation, pass --template to choose another"};
  if (model.model_type.empty())
    throw DataPipelineError("cannot tell which chat template " + model.dir.string() +
                            " uses: it has no config.json with a model_type and its name matches no known model. "
                            "Pass --template (qwen, qwen2_5, qwen3, llama3 or default)");
  throw DataPipelineError("no default chat template for model_type '" + model.model_type + "' (" +
                          model.dir.string() + "): pass --template (qwen, qwen2_5, qwen3, llama3 or default)");
}

}  // namespace megaswift::data
