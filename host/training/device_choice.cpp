#include "host/training/device_choice.hpp"

#include "host/core/status.hpp"

#ifdef MEGASWIFT_HAVE_CUDA
#include "host/cuda/cuda_backend.hpp"

#include <cuda_runtime.h>
#endif

#include <regex>

namespace megaswift::training {

using host::HostError;

namespace {

int visible_gpus() {
#ifdef MEGASWIFT_HAVE_CUDA
  return host::cuda::device_count();
#else
  return 0;
#endif
}

}  // namespace

msw_device choose_device(const std::string& flag) {
  if (flag == "cpu") return {MSW_DEVICE_CPU, 0};
  static const std::regex cuda(R"(cuda(?::(\d+))?)");
  std::smatch m;
  const bool wants_gpu = std::regex_match(flag, m, cuda);
  if (flag != "auto" && !wants_gpu)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "--device " + flag + " is not one of auto, cpu, cuda, cuda:N");
  const int count = visible_gpus();
  if (!wants_gpu && count == 0) return {MSW_DEVICE_CPU, 0};
  const int id = wants_gpu && m[1].matched ? std::stoi(m[1].str()) : 0;
  if (id >= count)
    throw HostError(MSW_STATUS_NOT_FOUND,
                    "--device " + flag + ": " + std::to_string(count) + " GPU(s) visible" +
#ifdef MEGASWIFT_HAVE_CUDA
                        " (CUDA_VISIBLE_DEVICES selects them); use --device cpu to run on the CPU"
#else
                        ": this build has no CUDA backend (built without the CUDA toolkit); use --device cpu"
#endif
    );
#ifdef MEGASWIFT_HAVE_CUDA
  host::cuda::register_cuda_backend();
#endif
  return {MSW_DEVICE_CUDA, id};
}

std::string device_text(const msw_device& device) {
  if (device.type == MSW_DEVICE_CPU) return "CPU";
  std::string name;
#ifdef MEGASWIFT_HAVE_CUDA
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, device.id) == cudaSuccess) name = std::string(" (") + prop.name + ")";
#endif
  return "GPU " + std::to_string(device.id) + name;
}

std::string config_weight_dtype(const nlohmann::json& hf_config) {
  for (const char* key : {"torch_dtype", "dtype"})
    if (const auto it = hf_config.find(key); it != hf_config.end() && it->is_string()) return it->get<std::string>();
  return "";
}

}  // namespace megaswift::training
