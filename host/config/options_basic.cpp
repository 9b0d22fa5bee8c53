// ms-swift's basic parameters that Megaswift's commands use, the export and inference parameters, and
// the options common to every command.
//
// split_dataset_ratio defaults to 0.01: that is ms-swift's default in the release the seed documents
// (3.2, where `megatron sft` first appeared); ms-swift 3.6 changed it to 0.
#include "host/config/declare.hpp"

namespace megaswift::config::detail {

static constexpr CommandSet kAll = CommandSet::all();
static constexpr CommandSet kTrainAndInfer{Command::pt, Command::sft, Command::infer};

static void declare_common(Declarer& d) {
  d.group("Common Parameters", kAll);
  d.flag("seed", Int, 42, "Random seed of initialization, data order, dropout and sampling.");
  d.flag("logging_level", Str, nullptr,
         "Log level: debug, info, warning, error or critical (Python level numbers 10-50 also work); unset "
         "means info.")
      .choices({"trace", "debug", "info", "warning", "error", "critical"})
      .synonyms({{"TRACE", "trace"}, {"DEBUG", "debug"}, {"INFO", "info"}, {"WARNING", "warning"}, {"WARN", "warning"},
                 {"warn", "warning"}, {"ERROR", "error"}, {"CRITICAL", "critical"}, {"10", "debug"}, {"20", "info"},
                 {"30", "warning"}, {"40", "error"}, {"50", "critical"}});
  d.flag("num_threads", Int, 0, "CPU threads for CPU kernels and data processing (0: all cores). Megaswift only.").min(0);
  d.flag("plugin_path", List, nlohmann::json::array(),
         "Extra directories searched for plugins, before MEGASWIFT_PLUGIN_PATH and the installed plugin directory. "
         "Megaswift only.");
}

static void declare_model(Declarer& d) {
  d.group("Basic Parameters: Model", kAll);
  d.flag("model", Str, nullptr, "Hugging Face model directory (config.json, tokenizer, safetensors weights).");
  d.flag("model_type", Str, nullptr, "Model architecture; unset: read from the model's config.json.");
  d.flag("torch_dtype", Str, nullptr,
         "Dtype of the weights; unset: the model's config.json's. For pt/sft it also sets --bf16 or --fp16.")
      .choices({"bfloat16", "float16", "float32"});
  d.flag("mcore_model", Str, nullptr,
         "Megatron checkpoint directory: the source of --to_hf export, or the model to chat with.")
      .commands({Command::export_model, Command::infer})
      .alias("load", {Command::infer});
}

static void declare_data(Declarer& d) {
  d.group("Basic Parameters: Data", kTraining);
  d.flag("dataset", List, nlohmann::json::array(),
         "Training datasets, several after one flag: dataset ids or local .jsonl/.json/.csv files or folders, "
         "each optionally 'id:subset1/subset2#N' to sample N rows.");
  d.flag("val_dataset", List, nlohmann::json::array(),
         "Validation datasets (same forms as --dataset). For swift infer: the datasets to answer instead of chatting.")
      .commands(kTrainAndInfer)
      .alias("infer_dataset", {Command::infer});
  d.flag("split_dataset_ratio", Float, 0.01,
         "Fraction of --dataset held out for validation when no --val_dataset is given.")
      .range(0, 1)
      .derived("0.0 when --val_dataset or --streaming is given");
  d.flag("data_seed", Int, nullptr, "Seed of dataset sampling, splitting and shuffling.").derived("--seed");
  d.flag("dataset_num_proc", Int, 1, "Parallel workers for dataset preprocessing and tokenization.").min(1);
  d.flag("streaming", Bool, false, "Read datasets as streams instead of loading them whole (needs --train_iters).");
  d.flag("columns", Json, nullptr, "Rename dataset columns, as a JSON object: '{\"old_name\": \"new_name\"}'.");
  d.flag("strict", Bool, false, "Stop at the first malformed dataset row instead of skipping it.");
  d.flag("model_name", List, nlohmann::json::array(),
         "The model's name in the self-cognition dataset: one value, or two ('Chinese name' 'English name').")
      .max_values(2);
  d.flag("model_author", List, nlohmann::json::array(),
         "The model's author in the self-cognition dataset: one value, or two ('Chinese' 'English').")
      .max_values(2);
}

static void declare_template(Declarer& d) {
  d.group("Basic Parameters: Template", kTrainAndInfer);
  d.flag("template", Str, nullptr, "Chat template; unset: the model's own. megatron pt uses its generation form.");
  d.flag("system", Str, nullptr, "System prompt, replacing the template's default one.");
  d.flag("max_length", Int, nullptr, "Longest tokenized sample; longer ones are handled by --truncation_strategy.")
      .min(1);
  d.flag("truncation_strategy", Str, "delete",
         "Samples longer than --max_length: 'delete' drops them, 'left'/'right' cut tokens from that side.")
      .choices({"delete", "left", "right"})
      .commands(kTraining);
  d.flag("loss_scale", Str, "default",
         "Which tokens get loss: 'default' every assistant turn, 'last_round' the last assistant turn, 'all' every "
         "token. megatron pt defaults to 'all'.")
      .choices({"default", "last_round", "all"})
      .commands(kTraining)
      .default_for(Command::pt, "all");
}

static void declare_export(Declarer& d) {
  d.group("Export Parameters", {Command::export_model});
  d.flag("to_mcore", Bool, false, "Convert the Hugging Face model of --model to a Megatron checkpoint.");
  d.flag("to_hf", Bool, false, "Convert the Megatron checkpoint of --mcore_model to a Hugging Face model.");
  d.flag("test_convert_precision", Bool, false,
         "After converting, run both models on a sample and print how far their logits differ.");
  d.flag("test_convert_dtype", Str, "float32", "Dtype of the --test_convert_precision forward passes.")
      .choices({"float32", "float16", "bfloat16"});
  d.flag("output_dir", Str, nullptr, "Directory the converted model is written to.")
      .derived("<model suffix>-mcore for --to_mcore, <mcore_model>-hf for --to_hf");
  d.flag("exist_ok", Bool, false, "Write into --output_dir even when it exists.");
  d.flag("max_shard_size", Str, "5GB",
         "Largest safetensors file of a --to_hf export, e.g. 5GB, 500MB (powers of 1000) or 2GiB (of 1024); "
         "bigger models are split into model-0000k-of-0000n.safetensors with an index.");
}

static void declare_inference(Declarer& d) {
  d.group("Inference Parameters", {Command::infer});
  d.flag("infer_backend", Str, "pt", "Inference engine; Megaswift has its own native engine, named 'pt' as in ms-swift.")
      .choices({"pt"});
  d.flag("stream", Bool, false, "Print tokens as they are generated.");
  d.flag("max_new_tokens", Int, nullptr,
         "Most tokens generated per answer; unset: 2048, or what the model's context leaves after the prompt.")
      .min(1);
  d.flag("temperature", Float, nullptr, "Sampling temperature, 0 for greedy decoding; unset: the model's generation_config.json's.")
      .min(0);
  d.flag("top_k", Int, nullptr, "Sample from the k most likely tokens only (0: no limit).").min(0);
  d.flag("top_p", Float, nullptr, "Sample from the smallest set of tokens whose probability reaches p.").range(0, 1);
  d.flag("repetition_penalty", Float, nullptr, "Penalty (> 1) on tokens already generated; 1 means none.").min(0);
  d.flag("max_batch_size", Int, 1, "Requests decoded together when answering --val_dataset.").min(1);
  d.flag("device", Str, "auto",
         "Where to run: auto (the first visible GPU when there is one, else the CPU), cpu, cuda or cuda:N. "
         "CUDA_VISIBLE_DEVICES is honoured. Megaswift only.")
      .commands(kTrainAndInfer);
  d.flag("result_path", Str, nullptr,
         "jsonl file the answers are written to. --val_dataset answers always are (unset: "
         "result/<model suffix>/infer_result/<time>.jsonl, or <mcore_model>/infer_result/); a chat only when given.");
}

void declare_basic_options(Declarer& d) {
  declare_model(d);
  declare_data(d);
  declare_template(d);
}

void declare_command_options(Declarer& d) {
  declare_export(d);
  declare_inference(d);
  declare_common(d);
}

}  // namespace megaswift::config::detail
