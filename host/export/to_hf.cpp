// Megatron -> HF: the model is resolved from the checkpoint's own config.json (or args.json's hf_config); every
// stored tensor is checked against the model's shapes; then for each mapping record the parameter's region is
// read (a stacked layer at its offset), cast to --torch_dtype when asked, split by the model plugin's
// megatron_to_hf and appended to the output shard, which is written as soon as it is complete.
#include "host/export/export.hpp"

#include "host/checkpoint/dtype_cast.hpp"
#include "host/checkpoint/keys.hpp"
#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/model_io.hpp"
#include "host/core/progress.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"
#include "host/export/hf_mapping.hpp"
#include "host/export/hf_shards.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::exporter {
namespace {

// Where the HF tensors go: the `safetensors` checkpoint plugin when it is loaded (HF names as keys, whole
// tensors, --max_shard_size through its config), else the host's own safetensors writer.
class HfSink {
 public:
  virtual ~HfSink() = default;
  virtual void add(const std::string& name, int32_t dtype, const std::vector<int64_t>& shape,
                   std::vector<uint8_t> bytes) = 0;
  virtual void finish() = 0;
  virtual std::string what() const = 0;
};

class HostSink final : public HfSink {
 public:
  HostSink(const fs::path& dir, const std::vector<std::pair<std::string, uint64_t>>& plan, uint64_t max)
      : writer_(dir, plan, max) {}
  void add(const std::string& name, int32_t dtype, const std::vector<int64_t>& shape,
           std::vector<uint8_t> bytes) override {
    writer_.add(name, dtype, shape, std::move(bytes));
  }
  void finish() override { writer_.finish(); }
  std::string what() const override { return std::to_string(writer_.file_count()) + " safetensors file(s), host writer"; }

 private:
  HfShardWriter writer_;
};

class PluginSink final : public HfSink {
 public:
  PluginSink(const host::LoadedComponent& component, const fs::path& dir, uint64_t max_shard_size)
      : format_(component, json{{"args", {{"max_shard_size", max_shard_size}}}}.dump()),
        dir_(dir.string()),
        common_(json{{"exported_by", "swift export --to_hf"}}.dump()),
        args_(host::CheckpointFormat::save_args(dir_, common_, 0, 1)),
        writer_(std::make_unique<host::CheckpointFormat::Writer>(format_, args_)) {}
  void add(const std::string& name, int32_t dtype, const std::vector<int64_t>& shape,
           std::vector<uint8_t> bytes) override {
    const host::TensorShard shard{name, shape, std::vector<int64_t>(shape.size(), 0), cpu_tensor(bytes.data(), dtype, shape)};
    writer_->write({&shard, 1});  // the plugin reads the bytes during the call (not async)
  }
  void finish() override {
    writer_->finish();
    writer_.reset();
    format_.commit(args_);
  }
  std::string what() const override { return "the safetensors checkpoint plugin"; }

 private:
  host::CheckpointFormat format_;
  std::string dir_, common_;
  msw_save_args args_;
  std::unique_ptr<host::CheckpointFormat::Writer> writer_;
};

}  // namespace

// The HF config.json of the model a checkpoint directory holds.
json checkpoint_hf_config(const fs::path& ckpt) {
  if (fs::is_regular_file(ckpt / "config.json"))
    return json::parse(host::read_text_file(ckpt / "config.json", "checkpoint file"));
  if (fs::is_regular_file(ckpt / "args.json")) {
    const json args = json::parse(host::read_text_file(ckpt / "args.json", "checkpoint file"));
    if (args.contains("hf_config") && args["hf_config"].is_object()) return args["hf_config"];
  }
  throw host::HostError(MSW_STATUS_NOT_FOUND, "checkpoint " + ckpt.string() +
                                                  " has neither config.json nor an args.json with hf_config, so its "
                                                  "model is unknown; copy the model's config.json into it");
}

ExportResult export_to_hf(const ExportOptions& o, const host::PluginRegistry& registry) {
  const auto start = std::chrono::steady_clock::now();
  if (!fs::is_directory(o.mcore_model))
    throw host::HostError(MSW_STATUS_NOT_FOUND, "--mcore_model " + o.mcore_model.string() +
                                                    " is not a directory: pass the Megatron checkpoint directory "
                                                    "(the one holding latest_checkpointed_iteration.txt)");
  const json hf_config = checkpoint_hf_config(o.mcore_model);
  const std::string hf_text = hf_config.dump();
  const std::string source = (o.mcore_model / "config.json").string();
  const host::ModelComponent model =
      host::select_model_component(registry, host::hf_model_type(hf_text, source), source);
  host::ModelInstance instance(model, host::transformer_config_from_hf(model, hf_text, source));

  auto ckpt = host::open_checkpoint(registry, o.mcore_model, o.load);
  const host::CheckpointReader& reader = *ckpt->reader;
  host::check_tensors(reader, host::expected_tensors(instance), "model plugin " + instance.name(),
                      host::recorded_model(ckpt->common));

  std::error_code ec;
  if (!o.exist_ok && fs::exists(o.output_dir, ec) && !fs::is_empty(o.output_dir, ec))
    throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, "--output_dir " + o.output_dir.string() +
                                                           " already exists; remove it or pass --exist_ok true");
  // A new output directory is written as a temporary sibling and renamed at the end, so an interrupted export
  // never leaves a directory that looks like a model; an existing one (--exist_ok) is written in place.
  const bool fresh = !fs::exists(o.output_dir, ec);
  const fs::path final_dir = o.output_dir;
  const fs::path out = fresh ? fs::path(final_dir.string() + ".tmp-" + std::to_string(::getpid())) : final_dir;
  struct RemoveOnFailure {
    fs::path dir;
    bool armed;
    ~RemoveOnFailure() {
      std::error_code e;
      if (armed) fs::remove_all(dir, e);
    }
  } cleanup{out, fresh};
  fs::create_directories(out);

  const std::vector<Mapping> mappings = hf_mappings(instance);
  const int64_t layers = instance.describe().num_layers;
  auto dtype_of = [&](const Mapping& m) {
    return o.dtype.value_or(reader.find(host::sharded_key(m.megatron_name, m.megatron_shape, layers).key)->dtype);
  };
  std::vector<std::pair<std::string, uint64_t>> plan;
  uint64_t total = 0;
  for (const Mapping& m : mappings)
    for (const HfTensor& t : m.hf) {
      plan.emplace_back(t.name, static_cast<uint64_t>(t.numel()) * msw_dtype_size(dtype_of(m)));
      total += plan.back().second;
    }
  std::unique_ptr<HfSink> writer;
  if (const host::LoadedComponent* st = o.host_hf_writer ? nullptr : registry.find(MSW_KIND_CHECKPOINT, "safetensors"))
    writer = std::make_unique<PluginSink>(*st, out, o.max_shard_size);
  else
    writer = std::make_unique<HostSink>(out, plan, o.max_shard_size);

  msw_progress* progress = host::progress_begin("swift export --to_hf", static_cast<int64_t>(total));
  uint64_t written = 0;
  try {
    for (const Mapping& m : mappings) {
      const host::ShardedKey k = host::sharded_key(m.megatron_name, m.megatron_shape, layers);
      const int32_t stored = reader.find(k.key)->dtype;
      const int32_t dtype = dtype_of(m);
      std::vector<uint8_t> param(static_cast<size_t>(numel(m.megatron_shape)) * msw_dtype_size(stored));
      reader.read_region(k.key, k.offset, cpu_tensor(param.data(), stored, k.shape));
      if (stored != dtype) {
        std::vector<uint8_t> cast(static_cast<size_t>(numel(m.megatron_shape)) * msw_dtype_size(dtype));
        host::cast_floats(param.data(), stored, cast.data(), dtype, numel(m.megatron_shape));
        param.swap(cast);
      }
      std::vector<std::vector<uint8_t>> outs;
      std::vector<msw_tensor> views;
      for (const HfTensor& t : m.hf) outs.emplace_back(static_cast<size_t>(t.numel()) * msw_dtype_size(dtype));
      for (size_t i = 0; i < m.hf.size(); ++i) views.push_back(cpu_tensor(outs[i].data(), dtype, m.hf[i].shape));
      const msw_tensor in = cpu_tensor(param.data(), dtype, m.megatron_shape);
      host::throw_if_error(instance.vt().megatron_to_hf(instance.self(), m.index, &in, views.data(), views.size()),
                           "model " + instance.name() + ": converting " + m.megatron_name + " to HF");
      param = {};
      for (size_t i = 0; i < m.hf.size(); ++i) {
        written += outs[i].size();
        host::progress_advance(progress, static_cast<int64_t>(outs[i].size()));
        writer->add(m.hf[i].name, dtype, m.hf[i].shape, std::move(outs[i]));
      }
    }
    writer->finish();
  } catch (...) {
    host::progress_end(progress);
    throw;
  }
  host::progress_end(progress);

  // The model description: generation config and tokenizer files as they were, config.json from the plugin's
  // config_to_hf over the original (which keeps keys the plugin does not know, e.g. architectures).
  host::copy_model_files(o.mcore_model, out);
  json config = hf_config;
  if (instance.vt().config_to_hf) {
    const json from_plugin = json::parse(host::read_plugin_text(
        [&](char* out, size_t cap, size_t* needed) { return instance.vt().config_to_hf(instance.self(), out, cap, needed); },
        "model " + instance.name() + ": config_to_hf"));
    config.update(from_plugin);
  }
  if (o.dtype) config["torch_dtype"] = host::torch_dtype_name(*o.dtype);
  host::write_file_atomic(out / "config.json", config.dump(2));
  if (fresh) {
    host::fsync_path(out, true);
    fs::rename(out, final_dir, ec);
    if (ec) throw host::HostError(MSW_STATUS_IO, "cannot rename " + out.string() + " to " + final_dir.string() + ": " +
                                                     ec.message());
    cleanup.armed = false;
    host::fsync_path(final_dir.parent_path().empty() ? fs::path(".") : final_dir.parent_path(), true);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("wrote the HF weights to {} through {}", o.output_dir.string(), writer->what());
  return {o.output_dir, written, seconds};
}

}  // namespace megaswift::exporter
