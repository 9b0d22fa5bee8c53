// Bad model directories fail with errors that name the problem: a config.json field that is missing, a
// model_type no plugin serves (listing the plugins that exist), and safetensors weights with a missing
// tensor, a wrong shape, a wrong dtype or a truncated file.
#include "parity_support.hpp"

#include "host/core/status.hpp"
#include "host/model/safetensors_writer.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <unistd.h>

using namespace megaswift;

namespace {

// A scratch copy of a fixture directory, removed at the end of the test.
struct ScratchModel {
  std::filesystem::path dir;
  nlohmann::json config;
  std::map<std::string, std::pair<msw_dtype, std::pair<std::vector<int64_t>, std::vector<char>>>> tensors;

  explicit ScratchModel(const std::string& fixture) {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("msw_bad_model_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(dir);
    const auto src = test::fixture_dir(fixture);
    std::ifstream in(src / "config.json");
    config = nlohmann::json::parse(in);
    const host::SafetensorsCheckpoint weights(src);
    for (const auto& name : weights.names()) {
      const auto r = weights.get(name);
      const auto bytes = r.file->bytes(*r.entry);
      tensors[name] = {static_cast<msw_dtype>(r.entry->msw_dtype),
                       {r.entry->shape, std::vector<char>(reinterpret_cast<const char*>(bytes.data()),
                                                          reinterpret_cast<const char*>(bytes.data()) + bytes.size())}};
    }
  }
  ~ScratchModel() { std::filesystem::remove_all(dir); }

  void write() {
    std::ofstream(dir / "config.json") << config.dump(2);
    std::vector<std::pair<std::string, msw_tensor>> list;
    for (auto& [name, t] : tensors) {
      auto& [dtype, rest] = t;
      auto& [shape, bytes] = rest;
      msw_tensor d{};
      d.data = bytes.data();
      d.device = {MSW_DEVICE_CPU, 0};
      d.dtype = dtype;
      d.ndim = static_cast<int32_t>(shape.size());
      int64_t stride = 1;
      for (int32_t i = d.ndim - 1; i >= 0; --i) {
        d.shape[i] = shape[i];
        d.strides[i] = stride;
        stride *= shape[i];
      }
      list.emplace_back(name, d);
    }
    host::write_safetensors(dir / "model.safetensors", list);
  }

  std::string load_error() {
    write();
    try {
      host::ModelRunner::from_hf_directory(test::registry(), dir);
    } catch (const host::HostError& e) {
      MESSAGE(std::string(e.what()));
      return e.what();
    }
    return "";
  }
};

}  // namespace

TEST_CASE("an unmodified scratch copy of a fixture loads (the cases below fail for their own reason only)") {
  ScratchModel m("qwen2");
  CHECK(m.load_error() == "");
}

TEST_CASE("config.json without num_hidden_layers names the missing field and the plugin") {
  ScratchModel m("qwen2");
  m.config.erase("num_hidden_layers");
  const std::string e = m.load_error();
  CHECK(e.find("\"num_hidden_layers\"") != std::string::npos);
  CHECK(e.find("config.json") != std::string::npos);
  CHECK(e.find("qwen2") != std::string::npos);
}

TEST_CASE("config.json without rope_theta names both places it may live") {
  ScratchModel m("llama3_1");
  m.config.erase("rope_theta");
  m.config["rope_parameters"].erase("rope_theta");
  const std::string e = m.load_error();
  CHECK(e.find("rope_theta") != std::string::npos);
  CHECK(e.find("rope_parameters") != std::string::npos);
}

TEST_CASE("config.json without model_type says so") {
  ScratchModel m("qwen3");
  m.config.erase("model_type");
  CHECK(m.load_error().find("\"model_type\"") != std::string::npos);
}

TEST_CASE("an unknown model_type lists every model plugin and the types it serves") {
  ScratchModel m("qwen2");
  m.config["model_type"] = "gpt2";
  const std::string e = m.load_error();
  CHECK(e.find("\"gpt2\"") != std::string::npos);
  CHECK(e.find("qwen2 (qwen2)") != std::string::npos);
  CHECK(e.find("llama (llama, mistral)") != std::string::npos);
  CHECK(e.find("qwen3 (qwen3)") != std::string::npos);
}

TEST_CASE("an unsupported rope_scaling type is refused by name") {
  ScratchModel m("llama3_1");
  m.config["rope_parameters"]["rope_type"] = "longrope";
  const std::string e = m.load_error();
  CHECK(e.find("longrope") != std::string::npos);
  CHECK(e.find("llama3") != std::string::npos);  // the supported list
}

TEST_CASE("a safetensors file missing a tensor names the tensor and the file") {
  ScratchModel m("qwen2");
  m.tensors.erase("model.layers.1.self_attn.k_proj.weight");
  const std::string e = m.load_error();
  CHECK(e.find("'model.layers.1.self_attn.k_proj.weight' is missing") != std::string::npos);
  CHECK(e.find("model.safetensors") != std::string::npos);
}

TEST_CASE("a tensor with the wrong shape names the tensor, the file, what was found and what was expected") {
  ScratchModel m("qwen2");
  auto& t = m.tensors["model.layers.0.mlp.up_proj.weight"];
  t.second.first = {64, 128};  // transposed: same bytes, wrong shape
  const std::string e = m.load_error();
  CHECK(e.find("'model.layers.0.mlp.up_proj.weight'") != std::string::npos);
  CHECK(e.find("model.safetensors") != std::string::npos);
  CHECK(e.find("has shape [64, 128], expected [128, 64]") != std::string::npos);
}

TEST_CASE("a tensor with a non-float dtype names the tensor, the dtype found and the dtypes accepted") {
  ScratchModel m("qwen2");
  auto& t = m.tensors["model.norm.weight"];
  t.first = MSW_DTYPE_I32;  // same byte count as F32
  const std::string e = m.load_error();
  CHECK(e.find("'model.norm.weight'") != std::string::npos);
  CHECK(e.find("has dtype I32, expected F32, BF16 or F16") != std::string::npos);
}

TEST_CASE("bf16 weights are widened to fp32 on load") {
  ScratchModel m("qwen2");
  auto& t = m.tensors["model.norm.weight"];
  // Keep the high half of each float: exact bf16 truncations of the fp32 values.
  std::vector<char> bf16(t.second.second.size() / 2);
  for (size_t i = 0; i < bf16.size() / 2; ++i) std::memcpy(&bf16[2 * i], &t.second.second[4 * i + 2], 2);
  t.first = MSW_DTYPE_BF16;
  t.second.second = bf16;
  m.write();
  auto runner = host::ModelRunner::from_hf_directory(test::registry(), m.dir);
  const auto& p = runner.param("decoder.final_layernorm.weight");
  uint16_t first_bits;
  std::memcpy(&first_bits, bf16.data(), 2);
  uint32_t widened = static_cast<uint32_t>(first_bits) << 16;
  float expected;
  std::memcpy(&expected, &widened, 4);
  CHECK(p.values()[0] == expected);
}

TEST_CASE("a truncated safetensors file is refused with the byte counts") {
  ScratchModel m("qwen2");
  m.write();
  const auto file = m.dir / "model.safetensors";
  std::filesystem::resize_file(file, std::filesystem::file_size(file) - 100);
  try {
    host::ModelRunner::from_hf_directory(test::registry(), m.dir);
    FAIL("a truncated file loaded");
  } catch (const host::HostError& e) {
    const std::string s = e.what();
    CHECK(s.find(file.string()) != std::string::npos);
    CHECK(s.find("truncated") != std::string::npos);
  }
}

TEST_CASE("a directory without safetensors weights says which files were looked for") {
  ScratchModel m("qwen2");
  m.write();
  std::filesystem::remove(m.dir / "model.safetensors");
  try {
    host::ModelRunner::from_hf_directory(test::registry(), m.dir);
    FAIL("a directory without weights loaded");
  } catch (const host::HostError& e) {
    const std::string s = e.what();
    CHECK(s.find("model.safetensors.index.json") != std::string::npos);
  }
}
