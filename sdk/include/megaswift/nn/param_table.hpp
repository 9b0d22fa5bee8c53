// A model's parameter table and HF mapping as plain C++ data, and their C records (msw_param_info,
// msw_hf_mapping with its msw_hf_tensor array) whose strings and arrays the table owns.
//
// Storage never moves once an entry is added (deques and heap-held mappings), so the pointers inside the
// records stay valid for the life of the table, as model.h requires ("owned by the instance").
#pragma once

#include <megaswift/c/model.h>
#include <megaswift/sdk/status.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace megaswift::nn {

inline constexpr uint32_t part_bit(msw_model_part part) { return 1u << part; }

struct ParamSpec {
  std::string name;
  std::vector<int64_t> shape;
  msw_tp_split tp_split = MSW_TP_REPLICATED;
  int32_t tp_split_dim = -1;
  int32_t layer = -1;
  uint32_t parts = 0;
  msw_param_init init = MSW_INIT_NORMAL;
  double init_std = 0.0;
  bool weight_decay = true;
  bool requires_grad = true;  // false: frozen by the plugin (the host may freeze more)
  int32_t expert = -1;        // expert index of an MoE expert parameter
};

struct HfMappingSpec {
  std::string megatron_name;
  msw_hf_transform transform = MSW_HF_IDENTITY;
  std::vector<std::string> hf_names;
  std::vector<std::vector<int64_t>> hf_shapes;
};

class ParamTable {
 public:
  // Adds a parameter; returns its index in the table.
  int64_t add(ParamSpec spec) {
    if (spec.shape.size() > MSW_MAX_DIMS)
      throw sdk::Error(MSW_STATUS_INTERNAL, "parameter " + spec.name + " has too many dimensions");
    if (find(spec.name)) throw sdk::Error(MSW_STATUS_INTERNAL, "parameter " + spec.name + " is declared twice");
    params_.push_back(std::move(spec));
    return static_cast<int64_t>(params_.size()) - 1;
  }
  // Adds the HF mapping of parameter `param` (an index returned by add).
  void add_mapping(int64_t param, HfMappingSpec spec) {
    if (spec.hf_names.empty() || spec.hf_names.size() != spec.hf_shapes.size())
      throw sdk::Error(MSW_STATUS_INTERNAL, "HF mapping of " + spec.megatron_name + " has a bad tensor list");
    for (const auto& s : spec.hf_shapes)
      if (s.size() > MSW_MAX_DIMS) throw sdk::Error(MSW_STATUS_INTERNAL, "HF tensor of " + spec.megatron_name + " has too many dims");
    auto m = std::make_unique<Mapping>();
    m->param = param;
    m->spec = std::move(spec);
    // Records point into m->spec, which never moves again (the Mapping lives on the heap).
    for (size_t i = 0; i < m->spec.hf_names.size(); ++i) {
      msw_hf_tensor t{};
      t.struct_size = sizeof(msw_hf_tensor);
      t.name = m->spec.hf_names[i].c_str();
      t.ndim = static_cast<int32_t>(m->spec.hf_shapes[i].size());
      for (size_t d = 0; d < m->spec.hf_shapes[i].size(); ++d) t.shape[d] = m->spec.hf_shapes[i][d];
      m->records.push_back(t);
    }
    mappings_.push_back(std::move(m));
  }

  int64_t size() const { return static_cast<int64_t>(params_.size()); }
  const ParamSpec& operator[](int64_t i) const { return params_.at(static_cast<size_t>(i)); }
  ParamSpec& at(int64_t i) { return params_.at(static_cast<size_t>(i)); }
  int64_t mapping_count() const { return static_cast<int64_t>(mappings_.size()); }
  const HfMappingSpec& mapping(int64_t i) const { return mappings_.at(static_cast<size_t>(i))->spec; }
  // The parameter a mapping fills.
  int64_t mapping_param(int64_t i) const { return mappings_.at(static_cast<size_t>(i))->param; }

  const ParamSpec* find(const std::string& name) const {
    for (const auto& p : params_)
      if (p.name == name) return &p;
    return nullptr;
  }

  // Indices of the parameters a part call receives, in table order (layer is ignored for embedding/head).
  std::vector<int64_t> part_indices(msw_model_part part, int32_t layer = -1) const {
    std::vector<int64_t> out;
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& p = params_[i];
      if (!(p.parts & part_bit(part))) continue;
      if (part == MSW_MODEL_PART_LAYER && p.layer != layer) continue;
      out.push_back(static_cast<int64_t>(i));
    }
    return out;
  }

  msw_param_info info(int64_t index) const {
    check_index(index, size(), "param_info");
    const auto& p = params_[static_cast<size_t>(index)];
    msw_param_info r{};
    r.struct_size = sizeof(msw_param_info);
    r.name = p.name.c_str();
    r.ndim = static_cast<int32_t>(p.shape.size());
    for (size_t d = 0; d < p.shape.size(); ++d) r.shape[d] = p.shape[d];
    r.tp_split = p.tp_split;
    r.tp_split_dim = p.tp_split_dim;
    r.layer = p.layer;
    r.parts = p.parts;
    r.init = p.init;
    r.init_std = p.init_std;
    r.weight_decay = p.weight_decay ? 1 : 0;
    r.requires_grad = p.requires_grad ? 1 : 0;
    r.expert = p.expert;
    return r;
  }

  msw_hf_mapping mapping_record(int64_t index) const {
    check_index(index, mapping_count(), "hf_mapping");
    const Mapping& m = *mappings_[static_cast<size_t>(index)];
    msw_hf_mapping r{};
    r.struct_size = sizeof(msw_hf_mapping);
    r.transform = m.spec.transform;
    r.megatron_name = m.spec.megatron_name.c_str();
    r.hf = m.records.data();
    r.hf_count = m.records.size();
    r.hf_elem_size = sizeof(msw_hf_tensor);
    return r;
  }

 private:
  struct Mapping {
    int64_t param = -1;
    HfMappingSpec spec;
    std::vector<msw_hf_tensor> records;
  };

  static void check_index(int64_t index, int64_t size, const char* what) {
    if (index < 0 || index >= size)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": index " + std::to_string(index) +
                                                        " is outside [0, " + std::to_string(size) + ")");
  }

  std::deque<ParamSpec> params_;
  std::vector<std::unique_ptr<Mapping>> mappings_;
};

}  // namespace megaswift::nn
