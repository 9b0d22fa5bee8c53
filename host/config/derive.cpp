// Derived defaults and cross-flag rules: the one place where an unset option gets its value from
// other options, and where combinations are checked. Each rule below is also named in the option's
// `derived` text, which help and docs/cli.md show.
#include "host/config/args.hpp"

#include "host/config/error.hpp"
#include "host/config/option.hpp"
#include "host/config/values.hpp"

#include <cstdint>
#include <string>

namespace megaswift::config {
namespace {

using nlohmann::json;

// The last path component: "Qwen/Qwen2.5-7B-Instruct" and "/models/Qwen2.5-7B-Instruct/" both give
// "Qwen2.5-7B-Instruct" (ms-swift's model suffix).
std::string model_suffix(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string without_trailing_slash(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

class Deriver {
 public:
  explicit Deriver(ParsedArgs& args) : args_(args) {}

  bool takes(const char* name) const { return args_.values.contains(name); }
  const json& v(const char* name) const { return args_.at(name); }
  bool open(const char* name) const { return takes(name) && !args_.is_fixed(name); }

  // Sets `name` from other options unless the user or code set it.
  void set(const char* name, json value) {
    if (!open(name)) return;
    args_.values[name] = std::move(value);
    args_.derived.emplace_back(name);
  }
  // Like set(), for options whose default is None: only while still None.
  void fill(const char* name, json value) {
    if (open(name) && v(name).is_null()) set(name, std::move(value));
  }

 private:
  ParsedArgs& args_;
};

void derive_training(Deriver& d) {
  d.fill("data_seed", d.v("seed"));
  if (!d.v("val_dataset").empty() || d.v("streaming").get<bool>()) d.set("split_dataset_ratio", 0.0);

  const json& dtype = d.v("torch_dtype");
  if (dtype == "bfloat16") d.set("bf16", true);
  if (dtype == "float16") d.set("fp16", true);
  d.fill("apply_query_key_layer_scaling", d.v("fp16"));

  d.fill("group_query_attention", d.v("num_query_groups").get<std::int64_t>() > 1);
  if (!d.v("hidden_size").is_null()) d.fill("ffn_hidden_size", 4 * d.v("hidden_size").get<std::int64_t>());
  if (!d.v("max_position_embeddings").is_null()) d.fill("seq_length", d.v("max_position_embeddings"));

  const json& source = !d.v("model").is_null() ? d.v("model") : d.v("load");
  if (!source.is_null()) d.fill("save", "megatron_output/" + model_suffix(source.get<std::string>()));
  if (!d.v("save").is_null()) d.fill("tensorboard_dir", without_trailing_slash(d.v("save").get<std::string>()) + "/runs");

  d.fill("eval_interval", d.v("save_interval"));
  if (!d.v("train_iters").is_null()) d.fill("lr_decay_iters", d.v("train_iters"));
}

void derive_export(Deriver& d) {
  if (d.v("to_mcore").get<bool>() && !d.v("model").is_null())
    d.fill("output_dir", model_suffix(d.v("model").get<std::string>()) + "-mcore");
  else if (d.v("to_hf").get<bool>() && !d.v("mcore_model").is_null())
    d.fill("output_dir", without_trailing_slash(d.v("mcore_model").get<std::string>()) + "-hf");
}

}  // namespace

void resolve_derived_defaults(ParsedArgs& args) {
  // Forget what the last call derived, so values derived from options assigned since are recomputed.
  for (const auto& name : args.derived) args.values[name] = registry().find(name)->default_for(args.command);
  args.derived.clear();

  Deriver d(args);
  switch (args.command) {
    case Command::pt:
    case Command::sft: derive_training(d); break;
    case Command::export_model: derive_export(d); break;
    case Command::infer: break;
  }
  validate(args);
}

}  // namespace megaswift::config
