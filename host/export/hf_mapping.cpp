#include "host/export/hf_mapping.hpp"

#include "host/checkpoint/model_io.hpp"
#include "host/core/status.hpp"

#include <map>

namespace megaswift::exporter {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t v : shape) n *= v;
  return n;
}

int64_t HfTensor::numel() const { return exporter::numel(shape); }

msw_tensor cpu_tensor(const void* data, int32_t dtype, const std::vector<int64_t>& shape) {
  msw_tensor t{};
  t.data = const_cast<void*>(data);
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.data());
  return t;
}

std::vector<Mapping> hf_mappings(const host::ModelInstance& instance) {
  const auto& vt = instance.vt();
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& p : host::parameter_shapes(instance)) shapes[p.name] = p.shape;
  const int64_t n = vt.hf_mapping_count(instance.self());
  if (n < 0) throw host::HostError(MSW_STATUS_INTERNAL, "model " + instance.name() + ": hf_mapping_count failed");
  std::vector<Mapping> out;
  for (int64_t m = 0; m < n; ++m) {
    msw_hf_mapping rec{};
    rec.struct_size = sizeof(rec);
    host::throw_if_error(vt.hf_mapping(instance.self(), m, &rec), "model " + instance.name() + ": hf_mapping");
    Mapping mp;
    mp.index = m;
    mp.megatron_name = rec.megatron_name;
    auto it = shapes.find(mp.megatron_name);
    if (it == shapes.end())
      throw host::HostError(MSW_STATUS_INTERNAL, "model " + instance.name() + ": HF mapping names unknown parameter " +
                                                     mp.megatron_name);
    mp.megatron_shape = it->second;
    for (size_t i = 0; i < rec.hf_count; ++i) {
      const auto& t = *reinterpret_cast<const msw_hf_tensor*>(reinterpret_cast<const char*>(rec.hf) + i * rec.hf_elem_size);
      mp.hf.push_back({t.name, std::vector<int64_t>(t.shape, t.shape + t.ndim)});
    }
    out.push_back(std::move(mp));
  }
  return out;
}

}  // namespace megaswift::exporter
