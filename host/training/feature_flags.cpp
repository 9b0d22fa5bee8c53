#include "host/training/feature_flags.hpp"

#include "host/core/status.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <cstdlib>
#include <string>

namespace megaswift::training {
namespace {

bool on(const config::ParsedArgs& a, const char* key) {
  const auto& v = a.at(key);
  return v.is_boolean() && v.get<bool>();
}

}  // namespace

int64_t nproc_per_node(std::string_view value) {
  int64_t n = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, n);
  // atoi read "abc" as 0 and "-1" as -1, both silently "one process"; a value torchrun would refuse is refused.
  if (ec != std::errc() || ptr != end || n < 1)
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT,
                          "NPROC_PER_NODE=" + std::string(value) +
                              ": not a number of processes; set it to a whole number of at least 1 (1 trains in one "
                              "process) or unset it");
  return n;
}

void check_feature_flags(const config::ParsedArgs& a) {
  // Speed-only features: the same losses without them.
  struct SpeedFlag {
    const char* flag;
    const char* why;
  };
  static const SpeedFlag kSpeed[] = {
      {"tp_comm_overlap", "overlapping tensor-parallel communication needs tensor parallelism across processes"},
      {"overlap_grad_reduce", "overlapping the data-parallel gradient reduction needs data parallelism across processes"},
      {"overlap_param_gather", "overlapping the parameter all-gather needs the distributed optimizer across processes"},
      {"use_flash_attn", "attention is the built-in kernel on CPU (it keeps no probabilities either)"},
      {"cross_entropy_loss_fusion", "the CPU cross-entropy is already chunked and never holds fp32 logits for a whole "
                                    "micro-batch"},
  };
  for (const SpeedFlag& f : kSpeed)
    if (on(a, f.flag)) spdlog::info("--{} true: no effect in this run: {}; the losses are the same", f.flag, f.why);

  // Python-only knobs of Megatron: nothing to do without a Python garbage collector.
  if (on(a, "manual_gc"))
    spdlog::info("--manual_gc true: accepted for compatibility; Megaswift has no garbage collector to drive (no-op)");

  if (on(a, "deterministic_mode"))
    spdlog::info("--deterministic_mode true: the CPU kernels are deterministic for any thread count already (every "
                 "reduction has a fixed order), so nothing changes");

  // Refused before the data is tokenized: the single-process engine cannot split the model.
  for (const char* f : {"tensor_model_parallel_size", "pipeline_model_parallel_size", "context_parallel_size"}) {
    const auto& v = a.at(f);
    if (v.is_number_integer() && v.get<int64_t>() > 1)
      throw host::HostError(MSW_STATUS_UNSUPPORTED,
                            "--" + std::string(f) + " " + v.dump() +
                                ": this build trains in one process on one device; tensor, pipeline and context "
                                "parallelism come with distributed training. Use 1 (the default); to fit a larger "
                                "model, --recompute_granularity full trades compute for activation memory");
  }
  if (const char* n = std::getenv("NPROC_PER_NODE"); n && *n && nproc_per_node(n) > 1)  // empty = unset
    throw host::HostError(MSW_STATUS_UNSUPPORTED,
                          std::string("NPROC_PER_NODE=") + n +
                              ": this build trains in one process; distributed training (one worker per GPU) is not "
                              "part of it yet. Unset NPROC_PER_NODE (or set it to 1) to train in one process");
}

}  // namespace megaswift::training
