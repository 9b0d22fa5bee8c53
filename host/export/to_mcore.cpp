// HF -> Megatron: for each mapping record the HF tensors are read from the memory-mapped safetensors files,
// cast to --torch_dtype when it differs (before the layout transform, which only moves bytes), laid out by the
// model plugin's hf_to_megatron and handed to the format plugin as one shard (a stacked layer at its offset).
#include "host/export/export.hpp"

#include "host/checkpoint/dtype_cast.hpp"
#include "host/checkpoint/keys.hpp"
#include "host/checkpoint/model_io.hpp"
#include "host/checkpoint/save.hpp"
#include "host/core/progress.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host/export/hf_mapping.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <span>
#include <sys/mman.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::exporter {
namespace {

// Drops the mapped pages of a source tensor once it was written: the mapping is read-only, so the pages come back
// from the page cache if touched again, and the resident set stays near one tensor however large the model.
void release_pages(std::span<const std::byte> bytes) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(bytes.data()) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size()) & ~(page - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void refuse_existing(const fs::path& out, bool exist_ok) {
  std::error_code ec;
  if (!exist_ok && fs::exists(out, ec) && !fs::is_empty(out, ec))
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, "--output_dir " + out.string() +
                                                           " already exists; remove it or pass --exist_ok true");
}

}  // namespace

ExportResult export_to_mcore(const ExportOptions& o, const host::PluginRegistry& registry) {
  const auto start = std::chrono::steady_clock::now();
  if (!fs::is_directory(o.model))
    throw host::HostError(MSW_STATUS_NOT_FOUND, "--model " + o.model.string() +
                                                    " is not a local directory; Megaswift does not download models: "
                                                    "pass a Hugging Face model directory (config.json, safetensors)");
  const fs::path config_path = o.model / "config.json";
  const std::string hf_text = host::read_text_file(config_path, "model config");
  const host::ModelComponent model =
      host::select_model_component(registry, host::hf_model_type(hf_text, config_path.string()), config_path.string());
  host::ModelInstance instance(model, host::transformer_config_from_hf(model, hf_text, config_path.string()));
  const host::CheckpointFormat format(host::require_checkpoint_format(registry, o.ckpt_format));
  refuse_existing(o.output_dir, o.exist_ok);

  const host::SafetensorsCheckpoint hf(o.model);
  const std::vector<Mapping> mappings = hf_mappings(instance);
  const int64_t layers = instance.describe().num_layers;
  const json hf_config = json::parse(hf_text);

  // The source dtype per tensor unless --torch_dtype asks for another; the total drives the progress bar.
  uint64_t total = 0;
  for (const Mapping& m : mappings) {
    const host::TensorRef first = hf.get(m.hf.at(0).name);
    total += static_cast<uint64_t>(numel(m.megatron_shape)) * msw_dtype_size(o.dtype.value_or(first.entry->msw_dtype));
  }

  json args = json::parse(instance.config_json());
  args["model_type"] = host::hf_model_type(hf_text, config_path.string());
  args["ckpt_format"] = o.ckpt_format;
  if (o.dtype) args["torch_dtype"] = host::torch_dtype_name(*o.dtype);
  json args_file = o.args;
  args_file["model_type"] = args["model_type"];
  args_file["megatron_config"] = json::parse(instance.config_json());
  args_file["hf_config"] = hf_config;

  host::SaveRequest request{o.output_dir, kExportIteration, host::common_state(kExportIteration, args), args_file, o.model};
  msw_progress* progress = host::progress_begin("swift export --to_mcore", static_cast<int64_t>(total));
  uint64_t written = 0;
  static const std::vector<int32_t> kFloat = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};
  try {
    host::save_checkpoint(format, request, [&](host::CheckpointFormat::Writer& writer) {
      for (const Mapping& m : mappings) {
        std::vector<msw_tensor> in;
        std::vector<std::span<const std::byte>> sources;
        std::vector<std::vector<uint8_t>> cast;  // only the tensors whose dtype changes
        int32_t dtype = -1;
        for (const HfTensor& t : m.hf) {
          const host::TensorRef ref = hf.require(t.name, kFloat, t.shape);
          msw_tensor d = ref.file->descriptor(*ref.entry);
          sources.push_back(ref.file->bytes(*ref.entry));
          if (dtype < 0) dtype = o.dtype.value_or(d.dtype);
          if (d.dtype != dtype) {
            cast.emplace_back(static_cast<size_t>(t.numel()) * msw_dtype_size(dtype));
            host::cast_floats(static_cast<const char*>(d.data) + d.byte_offset, d.dtype, cast.back().data(), dtype,
                              t.numel());
            d = cpu_tensor(cast.back().data(), dtype, t.shape);
          }
          in.push_back(d);
        }
        std::vector<uint8_t> out(static_cast<size_t>(numel(m.megatron_shape)) * msw_dtype_size(dtype));
        const msw_tensor out_t = cpu_tensor(out.data(), dtype, m.megatron_shape);
        host::throw_if_error(instance.vt().hf_to_megatron(instance.self(), m.index, in.data(), in.size(), &out_t),
                             "model " + instance.name() + ": converting " + m.megatron_name + " from HF");
        const host::ShardedKey k = host::sharded_key(m.megatron_name, m.megatron_shape, layers);
        const host::TensorShard shard{k.key, k.global_shape, k.offset, cpu_tensor(out.data(), dtype, k.shape)};
        writer.write({&shard, 1});
        for (const auto& b : sources) release_pages(b);
        written += out.size();
        host::progress_advance(progress, static_cast<int64_t>(out.size()));
      }
    });
  } catch (...) {
    host::progress_end(progress);
    throw;
  }
  host::progress_end(progress);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {o.output_dir, written, seconds};
}

}  // namespace megaswift::exporter
