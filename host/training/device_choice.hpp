// Which device a run uses (--device of megatron pt/sft and swift infer): auto takes the first visible GPU when this build has the CUDA
// backend and a GPU is visible (CUDA_VISIBLE_DEVICES decides which), else the CPU; cpu forces the CPU; cuda[:N]
// asks for a GPU and is an error naming the visible count when there is none. Starting a GPU registers the CUDA
// backend (allocator, streams, copies, ops).
#pragma once

#include <megaswift/c/tensor.h>

#include <nlohmann/json.hpp>

#include <string>

namespace megaswift::training {

msw_device choose_device(const std::string& flag);
std::string device_text(const msw_device& device);
// The dtype an HF config.json records for its weights ("bfloat16", "float16", "float32"): torch_dtype, or
// transformers 5's dtype; empty when it records none.
std::string config_weight_dtype(const nlohmann::json& hf_config);  // "CPU", "GPU 0 (NVIDIA H200)"

}  // namespace megaswift::training
