#include "host/data/pipeline/training_data.hpp"

#include "datasets/core/columns.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/search_path.hpp"
#include "datasets/core/self_cognition.hpp"
#include "host/core/out_of_memory.hpp"
#include "host/data/pipeline/error.hpp"
#include "host/data/pipeline/model_dir.hpp"
#include "host/data/pipeline/template_choice.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace megaswift::data {
namespace {

using nlohmann::json;

std::optional<std::string> optional_string(const config::ParsedArgs& args, const char* name) {
  const json& v = args.at(name);
  return v.is_string() ? std::optional<std::string>(v.get<std::string>()) : std::nullopt;
}

std::vector<std::string> strings(const config::ParsedArgs& args, const char* name) {
  const json& v = args.at(name);
  return v.is_array() ? v.get<std::vector<std::string>>() : std::vector<std::string>{};
}

datasets::LoadOptions load_options(const config::ParsedArgs& args, const BuildOptions& options) {
  datasets::LoadOptions out;
  out.search_dirs = options.dataset_search_dirs.empty() ? datasets::default_search_dirs() : options.dataset_search_dirs;
  const json& seed = args.at("data_seed").is_null() ? args.at("seed") : args.at("data_seed");
  out.seed = static_cast<std::uint64_t>(seed.get<std::int64_t>());
  if (const json& columns = args.at("columns"); !columns.is_null())
    out.columns = datasets::parse_columns(columns.is_string() ? columns.get<std::string>() : columns.dump());
  out.self_cognition = datasets::self_cognition_names(strings(args, "model_name"), strings(args, "model_author"));
  out.purpose = args.command == config::Command::pt ? datasets::Purpose::pretrain : datasets::Purpose::sft;
  out.strict = args.get<bool>("strict");
  return out;
}

}  // namespace

EncoderOptions encoder_options(const config::ParsedArgs& args, std::optional<std::size_t> model_max_len) {
  EncoderOptions out;
  if (const json& v = args.at("max_length"); !v.is_null()) out.max_length = v.get<std::size_t>();
  else out.max_length = model_max_len;
  out.truncation = parse_truncation_strategy(args.get<std::string>("truncation_strategy"));
  json render = json::object();
  if (auto system = optional_string(args, "system")) render["system"] = *system;
  render["loss_scale"] = args.get<std::string>("loss_scale");
  out.template_options_json = render.dump();
  return out;
}

TrainingData build_training_data(const config::ParsedArgs& args, const host::PluginRegistry& registry,
                                 const BuildOptions& options) {
  if (args.command != config::Command::pt && args.command != config::Command::sft)
    throw std::invalid_argument("build_training_data: only megatron pt and sft prepare training data");
  const std::optional<std::string> model_flag = optional_string(args, "model");
  if (!model_flag)
    throw DataPipelineError("--model is not set: the data pipeline needs a local Hugging Face model directory for "
                            "its tokenizer");
  const ModelDirectory model = open_model_directory(*model_flag);
  const TemplateChoice choice = choose_template(args.command, optional_string(args, "template"), model);
  if (args.get<bool>("streaming"))
    spdlog::warn("--streaming true: Megaswift reads the datasets whole before training for now");

  EncoderOptions enc_options = encoder_options(args, model.max_model_len);
  if (args.at("max_length").is_null())
    spdlog::info("data: --max_length unset: using the model's max_model_len {} from {}",
                 enc_options.max_length ? std::to_string(*enc_options.max_length) : std::string("(none)"),
                 (model.dir / "config.json").string());
  else if (model.max_model_len && enc_options.max_length && *enc_options.max_length > *model.max_model_len)
    spdlog::warn("--max_length {} is more than the {} positions the model was trained for (max_model_len of {}): "
                 "samples longer than that train positions the model has never seen; lower --max_length unless the "
                 "model's RoPE scaling covers them",
                 *enc_options.max_length, *model.max_model_len, (model.dir / "config.json").string());
  auto encoding = std::make_shared<const Encoding>(registry, model.dir, choice.name, enc_options);
  if (const std::vector<std::string> types = encoding->chat_template().model_types();
      !types.empty() && !model.model_type.empty() && std::find(types.begin(), types.end(), "*") == types.end() &&
      std::find(types.begin(), types.end(), model.model_type) == types.end()) {
    std::string listed;
    for (const auto& t : types) listed += (listed.empty() ? "" : ", ") + t;
    spdlog::warn("template '{}' is meant for model_type {}, but {} is '{}': check --template", choice.name, listed,
                 model.dir.string(), model.model_type);
  }

  datasets::TrainValRows rows = host::naming_out_of_memory("loading the datasets", [&] {
    return datasets::load_train_val(strings(args, "dataset"), strings(args, "val_dataset"),
                                    args.get<double>("split_dataset_ratio"), load_options(args, options));
  });

  TrainingData out;
  out.encoding = encoding;
  DataSummary& summary = out.summary;
  summary.model_dir = model.dir.string();
  summary.tokenizer_name = encoding->tokenizer_name();
  summary.template_name = choice.name;
  summary.template_reason = choice.why;
  summary.max_length = enc_options.max_length;
  summary.truncation_strategy = truncation_strategy_name(enc_options.truncation);
  summary.lazy = args.get<bool>("lazy_tokenize");
  summary.num_proc = static_cast<int>(args.get<std::int64_t>("dataset_num_proc"));
  for (const auto& report : rows.reports) summary.datasets.push_back(summarize(report));

  if (summary.lazy) {
    summary.train = SplitTally("train", rows.train.size(), true).summary();
    summary.val = SplitTally("val", rows.val.size(), true).summary();
    out.train = std::make_shared<const LazyDataset>(encoding, std::move(rows.train), "train");
    out.val = std::make_shared<const LazyDataset>(encoding, std::move(rows.val), "val");
  } else {
    EagerSplit train = host::naming_out_of_memory("tokenizing the training rows", [&] {
      return encode_eagerly(*encoding, rows.train, summary.num_proc, "train");
    });
    rows.train = {};
    EagerSplit val = host::naming_out_of_memory("tokenizing the validation rows", [&] {
      return encode_eagerly(*encoding, rows.val, summary.num_proc, "val");
    });
    out.train = std::move(train.dataset);
    out.val = std::move(val.dataset);
    summary.train = std::move(train.summary);
    summary.val = std::move(val.summary);
  }
  if (options.log) log_summary(summary);
  if (out.train->size() == 0)
    throw DataPipelineError("no training sample is left after tokenizing: " + describe(summary.train) +
                            ". Raise --max_length, use --truncation_strategy left/right, or check the dataset");
  return out;
}

}  // namespace megaswift::data
