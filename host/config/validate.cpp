// Cross-flag rules that need no model: each broken rule becomes one line that names the flags, their
// values and the fix. Rules on model shapes run once those values are known (given, or assigned
// from the model's config.json before resolve_derived_defaults() runs again).
#include "host/config/args.hpp"

#include "host/config/error.hpp"
#include "host/config/values.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::config {
namespace {

using nlohmann::json;

class Rules {
 public:
  explicit Rules(const ParsedArgs& args) : args_(args) {}

  const json& v(const char* name) const { return args_.at(name); }
  bool flag(const char* name) const { return v(name).get<bool>(); }
  std::int64_t i(const char* name) const { return v(name).get<std::int64_t>(); }
  bool none(const char* name) const { return v(name).is_null(); }
  std::string show(const char* name) const { return "--" + std::string(name) + " " + display_value(v(name)); }
  std::string cmd() const { return std::string(command_name(args_.command)); }

  void fail(std::string message) { problems_.push_back(std::move(message)); }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  const ParsedArgs& args_;
  std::vector<std::string> problems_;
};

void check_inputs(Rules& r) {
  if (r.none("model") && r.none("load"))
    r.fail(r.cmd() + " needs a model: pass --model <Hugging Face model dir> or --load (alias --mcore_model) "
                     "<Megatron checkpoint dir>");
  if (r.v("dataset").empty()) r.fail(r.cmd() + " needs training data: pass --dataset <dataset id or file> ...");
  if (r.none("train_iters") && r.none("num_train_epochs"))
    r.fail(r.cmd() + " needs the training length: pass --train_iters N, or --num_train_epochs N to derive it "
                     "from the dataset size");
  if (r.flag("streaming") && r.none("train_iters"))
    r.fail("--streaming true needs --train_iters: a stream's size is unknown, so --num_train_epochs cannot derive it");
  if (!r.v("val_dataset").empty() && r.v("split_dataset_ratio").get<double>() > 0)
    r.fail(r.show("split_dataset_ratio") + " and --val_dataset both choose validation data; drop one of them");
}

void check_batch_and_recompute(Rules& r) {
  const auto gbs = r.i("global_batch_size"), mbs = r.i("micro_batch_size");
  if (gbs % mbs != 0) {
    // The next multiple up, in checked arithmetic (near INT64_MAX it would wrap); else the one below, which is
    // positive then because gbs > mbs there.
    std::int64_t up = 0;
    const bool fits = !__builtin_add_overflow(gbs / mbs, std::int64_t{1}, &up) && !__builtin_mul_overflow(up, mbs, &up);
    const std::int64_t down = gbs / mbs * mbs;
    const std::int64_t suggestion = fits ? up : down;
    r.fail(r.show("global_batch_size") + " is not a multiple of " + r.show("micro_batch_size") +
           "; use e.g. --global_batch_size " + std::to_string(suggestion));
  }

  const bool full = r.v("recompute_granularity").get<std::string>() == "full";
  for (const char* name : {"recompute_method", "recompute_num_layers"})
    if (!full && !r.none(name))
      r.fail(r.show(name) + " only applies with --recompute_granularity full; add --recompute_granularity full or drop --" +
             name);
  if (full && (r.none("recompute_method") || r.none("recompute_num_layers")))
    r.fail("--recompute_granularity full needs --recompute_method uniform|block and --recompute_num_layers N "
           "(e.g. --recompute_method uniform --recompute_num_layers 1)");
}

void check_schedule(Rules& r) {
  if (r.v("lr").get<double>() < r.v("min_lr").get<double>())
    r.fail(r.show("lr") + " is below " + r.show("min_lr") + "; raise --lr or lower --min_lr");
  if (!r.none("lr_decay_iters") && r.i("lr_warmup_iters") >= r.i("lr_decay_iters"))
    r.fail(r.show("lr_warmup_iters") + " must be below " + r.show("lr_decay_iters") +
           " (which is --train_iters when unset); shorten the warm-up or lengthen the decay");
}

void check_precision(Rules& r, const ParsedArgs& args) {
  const json& dtype = r.v("torch_dtype");
  auto clash = [&](const char* precision, bool wanted) {
    if (args.was_given(precision) && r.flag(precision) != wanted)
      r.fail("--torch_dtype " + dtype.get<std::string>() + " contradicts " + r.show(precision) +
             "; drop --" + precision + " (--torch_dtype sets it)");
  };
  if (!dtype.is_null()) {
    clash("bf16", dtype == "bfloat16");
    clash("fp16", dtype == "float16");
  }
  if (r.flag("fp16") && r.flag("bf16")) r.fail("--fp16 and --bf16 are both true; choose one");
}

void check_parallel(Rules& r) {
  if (r.flag("tp_comm_overlap") && !r.flag("sequence_parallel"))
    r.fail("--tp_comm_overlap true needs --sequence_parallel true (the overlap splits along the sequence)");
  if (r.flag("overlap_param_gather") && !r.flag("use_distributed_optimizer"))
    r.fail("--overlap_param_gather true needs --use_distributed_optimizer true");
  if (r.flag("overlap_param_gather") && !r.flag("overlap_grad_reduce"))
    r.fail("--overlap_param_gather true needs --overlap_grad_reduce true");
}

void check_model_shape(Rules& r) {
  const auto groups = r.i("num_query_groups"), tp = r.i("tensor_model_parallel_size");
  if (!r.none("group_query_attention") && !r.flag("group_query_attention") && groups > 1)
    r.fail("--group_query_attention false contradicts " + r.show("num_query_groups") + "; drop one of them");
  if (!r.none("num_attention_heads")) {
    const auto heads = r.i("num_attention_heads");
    if (!r.none("hidden_size") && r.i("hidden_size") % heads != 0)
      r.fail(r.show("hidden_size") + " is not divisible by " + r.show("num_attention_heads"));
    if (heads % groups != 0) r.fail(r.show("num_attention_heads") + " is not divisible by " + r.show("num_query_groups"));
    if (heads % tp != 0)
      r.fail(r.show("num_attention_heads") + " is not divisible by " + r.show("tensor_model_parallel_size") +
             "; choose a tensor-parallel size that divides the head count");
  }
  if (!r.none("group_query_attention") && r.flag("group_query_attention") && groups % tp != 0)
    r.fail(r.show("num_query_groups") + " is not divisible by " + r.show("tensor_model_parallel_size") +
           "; choose a tensor-parallel size that divides the key/value head count");
  // Learned absolute positions have one embedding row per position: a longer sample would index past the table.
  // (Rotary positions extend past it; the data pipeline warns there.)
  if (!r.none("max_position_embeddings") && r.v("position_embedding_type") == "learned_absolute")
    for (const char* length : {"max_length", "seq_length"})
      if (r.v(length).is_number_integer() && r.i(length) > r.i("max_position_embeddings"))
        r.fail(r.show(length) + " is more than " + r.show("max_position_embeddings") +
               ", and learned absolute position embeddings have no row past it; lower --" + length +
               " or raise --max_position_embeddings");
  if (!r.none("num_layers") && r.i("num_layers") % r.i("pipeline_model_parallel_size") != 0)
    r.fail(r.show("num_layers") + " is not divisible by " + r.show("pipeline_model_parallel_size") +
           "; choose a pipeline size that divides the layer count");
}

void check_export(Rules& r) {
  const bool to_mcore = r.flag("to_mcore"), to_hf = r.flag("to_hf");
  if (to_mcore == to_hf)
    r.fail(to_mcore ? "--to_mcore and --to_hf are both true; choose one direction"
                    : "swift export needs a direction: --to_mcore true (Hugging Face -> Megatron) or --to_hf true "
                      "(Megatron -> Hugging Face)");
  if (to_mcore && r.none("model")) r.fail("--to_mcore true needs --model <Hugging Face model dir>");
  if (to_hf && r.none("mcore_model")) r.fail("--to_hf true needs --mcore_model <Megatron checkpoint dir>");
}

void check_infer(Rules& r) {
  if (r.none("model") && r.none("mcore_model"))
    r.fail("swift infer needs a model: pass --model <Hugging Face model dir> or --mcore_model <Megatron checkpoint dir>");
}

}  // namespace

void validate(const ParsedArgs& args) {
  Rules r(args);
  switch (args.command) {
    case Command::pt:
    case Command::sft:
      check_inputs(r);
      check_batch_and_recompute(r);
      check_schedule(r);
      check_precision(r, args);
      check_parallel(r);
      check_model_shape(r);
      break;
    case Command::export_model: check_export(r); break;
    case Command::infer: check_infer(r); break;
  }
  if (r.problems().empty()) return;
  std::string message = r.problems().size() == 1 ? "" : std::string(command_name(args.command)) + ": " +
                                                            std::to_string(r.problems().size()) + " problems:\n";
  for (const auto& p : r.problems()) message += (r.problems().size() == 1 ? "" : "  - ") + p + "\n";
  message.pop_back();
  throw ConfigError(message);
}

}  // namespace megaswift::config
