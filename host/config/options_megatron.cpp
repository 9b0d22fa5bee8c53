// The Megatron parameters of Megatron-SWIFT (the "Command Line Arguments" of
// ../shared/seed/megatron-swift-training.md), grouped as there, with the defaults stated there.
// Model parameters are normally filled from the model's config.json; a value given here wins.
#include "host/config/declare.hpp"

namespace megaswift::config::detail {

static void declare_training(Declarer& d) {
  d.group("Training Parameters", kTraining);
  d.flag("micro_batch_size", Int, 1, "Samples per device in one forward/backward pass.").min(1);
  d.flag("global_batch_size", Int, 16,
         "Samples per optimizer step over all data-parallel ranks: micro_batch_size x data-parallel size x "
         "gradient-accumulation steps.")
      .min(1);
  d.flag("recompute_granularity", Str, "selective",
         "Activation recomputation in backward: 'selective' recomputes core attention only (recommended), "
         "'full' recomputes whole transformer layers (see --recompute_method).")
      .choices({"full", "selective"});
  d.flag("recompute_method", Str, nullptr,
         "With --recompute_granularity full: 'uniform' splits the layers into equal groups of "
         "--recompute_num_layers and recomputes each group; 'block' recomputes the first --recompute_num_layers "
         "layers of each pipeline stage.")
      .choices({"uniform", "block"});
  d.flag("recompute_num_layers", Int, nullptr,
         "With --recompute_granularity full: layers per recompute group (uniform) or recomputed layers per "
         "pipeline stage (block). block: more layers use less memory and more compute. uniform: a group keeps only "
         "its input but holds all its layers' activations in backward, so 1 is usually the least memory, e.g. "
         "--recompute_granularity full --recompute_method uniform --recompute_num_layers 1.")
      .min(1);
  d.flag("deterministic_mode", Bool, false, "Use deterministic kernels only (bitwise reproducible runs, slower).");
  d.flag("train_iters", Int, nullptr,
         "Total training iterations. When unset, --num_train_epochs derives it from the dataset size.")
      .min(1);
  d.flag("log_interval", Int, 5, "Log every this many iterations.").min(1).alias("logging_steps");
  d.flag("tensorboard_dir", Str, nullptr, "Where TensorBoard event files are written.").derived("<save>/runs");
  d.flag("no_masked_softmax_fusion", Bool, false, "Do not fuse scaling, masking and softmax of attention scores.");
  d.flag("no_bias_dropout_fusion", Bool, false, "Do not fuse bias add and dropout.");
  d.flag("no_bias_swiglu_fusion", Bool, false, "Do not fuse bias add and SwiGLU.");
  d.flag("no_rope_fusion", Bool, false, "Do not use the fused rotary-embedding kernel.");
  d.flag("no_gradient_accumulation_fusion", Bool, false,
         "Do not fuse weight-gradient accumulation into the GEMM of the backward pass.");
  d.flag("cross_entropy_loss_fusion", Bool, false, "Compute the cross-entropy loss with a fused kernel.");
  d.flag("use_flash_attn", Bool, false, "Use the FlashAttention implementation of attention.");
  d.flag("optimizer", Str, "adam", "Optimizer plugin: adam (AdamW) or sgd.").choices({"adam", "sgd"}).plugin("optimizer");
  d.flag("dataloader_type", Str, "cyclic",
         "How samples are drawn: 'cyclic' reshuffles each epoch, 'single' goes through the data once, 'external' "
         "leaves the order to the dataset (streaming).")
      .choices({"single", "cyclic", "external"});
  d.flag("manual_gc", Bool, false,
         "Megatron's switch for Python's garbage collector; accepted for compatibility, a no-op here (Megaswift has "
         "no garbage collector).");
  d.flag("manual_gc_interval", Int, 0, "With --manual_gc in Megatron: steps between collections; a no-op here.").min(0);
  d.flag("max_consecutive_nan_steps", Int, 10,
         "A step whose loss or gradient norm is NaN/Inf is skipped (weights unchanged); this many in a row stop the run.")
      .min(1);
  d.flag("exit_signal_handler", Bool, false,
         "On SIGTERM/SIGINT save a checkpoint after the current step before stopping (without it the run stops unsaved).");
  d.flag("num_workers", Int, 4, "Data-loader worker threads per rank.").min(0).alias("dataloader_num_workers");
  d.flag("seq_length", Int, nullptr,
         "Longest sequence processed. Batches are padded dynamically, so this rarely needs setting; limit sample "
         "length with --max_length instead.")
      .min(1)
      .derived("--max_position_embeddings (unset while that is unknown)");
  d.flag("use_cpu_initialization", Bool, false, "Initialize weights on the CPU (used by weight conversion).");
  d.flag("no_create_attention_mask_in_dataloader", Bool, true,
         "Let attention build the causal mask instead of the data loader.");
}

static void declare_learning_rate(Declarer& d) {
  d.group("Learning Rate Parameters", kTraining);
  d.flag("lr", Float, 1e-5, "Peak learning rate, reached after warm-up; the decay schedule starts from it.").min(0);
  d.flag("lr_decay_style", Str, "cosine", "Learning-rate decay after warm-up.").choices({"cosine", "linear", "constant"});
  d.flag("lr_decay_iters", Int, nullptr, "Iterations over which the learning rate decays to --min_lr.")
      .min(1)
      .derived("--train_iters");
  d.flag("lr_warmup_iters", Int, 0, "Iterations of linear warm-up from 0 to --lr.").min(0);
  d.flag("min_lr", Float, 0.0, "Floor of the learning rate; the schedule never goes below it.").min(0);
}

static void declare_regularization(Declarer& d) {
  d.group("Regularization Parameters", kTraining);
  d.flag("weight_decay", Float, 0.1, "Decoupled weight decay (AdamW) on weights; biases and norms are not decayed.").min(0);
  d.flag("clip_grad", Float, 1.0, "Clip the global L2 norm of the gradients to this value (0 turns clipping off).").min(0);
  d.flag("adam_beta1", Float, 0.9, "Adam's first-moment decay.").range(0, 1);
  d.flag("adam_beta2", Float, 0.95, "Adam's second-moment decay.").range(0, 1);
  d.flag("adam_eps", Float, 1e-8, "Adam's epsilon, added to the denominator.").min(0);
  d.flag("sgd_momentum", Float, 0.9, "Momentum of the sgd optimizer.").range(0, 1);
}

static void declare_checkpoint(Declarer& d) {
  d.group("Checkpoint Parameters", kTraining);
  d.flag("save", Str, nullptr,
         "Checkpoint output directory. With --add_version a '<version>-<timestamp>' directory is added below it.")
      .alias("output_dir")
      .derived("megatron_output/<model suffix>, the suffix being the last path component of --model, else of --load");
  d.flag("save_interval", Int, 500, "Save a checkpoint every this many iterations; the last iteration is always saved.")
      .min(1)
      .alias("save_steps");
  d.flag("no_save_optim", Bool, false, "Do not save the optimizer state.");
  d.flag("no_save_rng", Bool, false, "Do not save the random-number-generator state.");
  d.flag("load", Str, nullptr, "Megatron checkpoint directory to start from.").alias("mcore_model");
  d.flag("no_load_optim", Bool, false, "Do not load the optimizer state.");
  d.flag("no_load_rng", Bool, false, "Do not load the random-number-generator state.");
  d.flag("finetune", Bool, false,
         "Load only the model weights: no optimizer or RNG state, and the iteration count restarts at 0. "
         "false resumes training where the checkpoint stopped.");
  d.flag("ckpt_format", Str, "torch_dist", "Checkpoint format plugin used to save; loading detects the format.")
      .choices({"torch", "torch_dist", "zarr", "safetensors", "hdf5"})
      .plugin("checkpoint")
      .commands({Command::pt, Command::sft, Command::export_model});
  d.flag("no_initialization", Bool, true, "Skip random initialization of weights that a checkpoint overwrites anyway.");
  d.flag("auto_detect_ckpt_format", Bool, true, "Detect the format of the checkpoint given to --load.")
      .commands({Command::pt, Command::sft, Command::export_model});
  d.flag("exit_on_missing_checkpoint", Bool, true,
         "Stop with an error when --load has no checkpoint, instead of starting from random weights.");
}

static void declare_distributed(Declarer& d) {
  d.group("Distributed Parameters", kTraining);
  d.flag("distributed_backend", Str, "nccl", "Communication plugin: nccl (GPUs) or gloo (CPUs).")
      .choices({"nccl", "gloo"})
      .plugin("parallel");
  d.flag("use_distributed_optimizer", Bool, true,
         "Shard optimizer state and main weights over data-parallel ranks (ZeRO-1).");
  d.flag("tensor_model_parallel_size", Int, 1, "Tensor-parallel (TP) size.").min(1);
  d.flag("pipeline_model_parallel_size", Int, 1, "Pipeline-parallel (PP) size.").min(1);
  d.flag("sequence_parallel", Bool, false,
         "Split norm and dropout activations along the sequence over the tensor-parallel ranks.");
  d.flag("context_parallel_size", Int, 1, "Context-parallel (CP) size: long sequences split over ranks.").min(1);
  d.flag("tp_comm_overlap", Bool, false, "Overlap tensor-parallel communication with GEMMs.");
  d.flag("overlap_grad_reduce", Bool, false, "Overlap the data-parallel gradient reduction with backward.");
  d.flag("overlap_param_gather", Bool, false, "Overlap the distributed optimizer's parameter all-gather with forward.");
  d.flag("distributed_timeout_minutes", Int, 60, "Timeout of collective operations, in minutes.").min(1);
}

static void declare_logging(Declarer& d) {
  d.group("Logging Parameters", kTraining);
  d.flag("log_params_norm", Bool, true, "Log the L2 norm of the parameters.");
  d.flag("log_throughput", Bool, true, "Log throughput per GPU.");
  d.flag("tensorboard_log_interval", Int, 1, "Write TensorBoard scalars every this many iterations.").min(1);
  d.flag("tensorboard_queue_size", Int, 50, "Events buffered before TensorBoard writes to disk.").min(1);
  d.flag("log_timers_to_tensorboard", Bool, true, "Write timers to TensorBoard.");
  d.flag("no_log_learning_rate_to_tensorboard", Bool, false, "Do not write the learning rate to TensorBoard.");
  d.flag("log_validation_ppl_to_tensorboard", Bool, true, "Write validation perplexity to TensorBoard.");
  d.flag("log_memory_to_tensorboard", Bool, true, "Write memory use to TensorBoard.");
}

static void declare_evaluation(Declarer& d) {
  d.group("Evaluation Parameters", kTraining);
  d.flag("eval_iters", Int, 100, "Iterations per evaluation (0: no evaluation).").min(0);
  d.flag("eval_interval", Int, nullptr, "Evaluate every this many iterations.")
      .min(1)
      .alias("eval_steps")
      .derived("--save_interval");
}

static void declare_mixed_precision(Declarer& d) {
  d.group("Mixed Precision Parameters", kTraining);
  d.flag("fp16", Bool, false, "fp16 weights and activations with loss scaling.").derived("true when --torch_dtype float16");
  d.flag("bf16", Bool, false, "bf16 weights and activations.").derived("true when --torch_dtype bfloat16");
  d.flag("apply_query_key_layer_scaling", Bool, nullptr,
         "Scale Q*K^T by 1/layer number (helps fp16 stay in range).")
      .derived("--fp16");
  d.flag("attention_softmax_in_fp32", Bool, true, "Compute attention masking and softmax in fp32.");
}

static void declare_model(Declarer& d) {
  d.group("Model Parameters", kTraining);
  d.flag("num_layers", Int, nullptr, "Transformer layers.").min(1);
  d.flag("hidden_size", Int, nullptr, "Transformer hidden size.").min(1);
  d.flag("ffn_hidden_size", Int, nullptr, "Hidden size of the MLP.").min(1).derived("4 * --hidden_size, once that is known");
  d.flag("num_attention_heads", Int, nullptr, "Attention (query) heads.").min(1);
  d.flag("group_query_attention", Bool, nullptr, "Grouped-query attention.").derived("--num_query_groups > 1");
  d.flag("num_query_groups", Int, 1, "Key/value head groups of grouped-query attention.").min(1);
  // The upper bound is nn::TransformerConfig's kMaxPositions: past it a value is a typo, not a model.
  d.flag("max_position_embeddings", Int, nullptr, "Longest position the position embedding covers.")
      .range(1, 268435456);
  d.flag("position_embedding_type", Str, "rope", "Position embedding.")
      .choices({"learned_absolute", "rope", "relative", "none"});
  d.flag("rotary_base", Int, 10000, "Base (theta) of the rotary embedding.").min(1);
  d.flag("rotary_percent", Float, 1.0, "Fraction of each head's dimensions that gets rotary embedding.").range(0, 1);
  d.flag("normalization", Str, "RMSNorm", "Normalization layer.").choices({"LayerNorm", "RMSNorm"});
  d.flag("norm_epsilon", Float, 1e-5, "Epsilon of the normalization layers.").min(0);
  d.flag("swiglu", Bool, true, "SwiGLU MLP instead of GeLU.");
  d.flag("untie_embeddings_and_output_weights", Bool, true, "Separate input-embedding and output-layer weights.");
  d.flag("disable_bias_linear", Bool, true, "No bias in linear layers.");
  d.flag("add_qkv_bias", Bool, true, "Bias in the QKV projection only (with --disable_bias_linear).");
  d.flag("attention_dropout", Float, 0.0, "Dropout on attention probabilities.").range(0, 1);
  d.flag("hidden_dropout", Float, 0.0, "Dropout on hidden states.").range(0, 1);
  d.flag("transformer_impl", Str, "transformer_engine",
         "Transformer implementation name kept for Megatron compatibility; Megaswift's own kernels serve both.")
      .choices({"local", "transformer_engine"});
  d.flag("padded_vocab_size", Int, nullptr, "Vocabulary size including padding rows.").min(1);
  d.flag("rope_scaling", Json, nullptr,
         "RoPE scaling as a JSON object in the form of an HF config.json's rope_scaling, e.g. "
         "'{\"rope_type\": \"llama3\", \"factor\": 8.0}'.");
}

static void declare_megatron_training(Declarer& d) {
  d.group("Megatron Training Parameters", kTraining);
  d.flag("add_version", Bool, true, "Add a '<version>-<timestamp>' directory below --save so runs never overwrite each other.");
  d.flag("lazy_tokenize", Bool, false,
         "Tokenize samples while training (less memory) instead of all before training (errors show up early).");
  d.flag("num_train_epochs", Int, nullptr,
         "Epochs to train; derives --train_iters from the dataset size when --train_iters is unset.")
      .min(1)
      .alias("max_epochs");
  d.flag("padding_free", Bool, true,
         "Concatenate the samples of a micro-batch without padding (THD batches with cu_seqlens); attention never "
         "crosses samples.");
  d.flag("packing", Bool, false, "Pack samples into rows of up to --max_length tokens before batching.");
}

void declare_megatron_options(Declarer& d) {
  declare_training(d);
  declare_learning_rate(d);
  declare_regularization(d);
  declare_checkpoint(d);
  declare_distributed(d);
  declare_logging(d);
  declare_evaluation(d);
  declare_mixed_precision(d);
  declare_model(d);
  declare_megatron_training(d);
}

}  // namespace megaswift::config::detail
