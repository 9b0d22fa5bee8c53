#include "host/export/export.hpp"

#include "host/checkpoint/load.hpp"
#include "host/checkpoint/model_io.hpp"
#include "host/export/precision.hpp"

#include <spdlog/spdlog.h>

#include <iostream>

using nlohmann::json;

namespace megaswift::exporter {

json checkpoint_hf_config(const std::filesystem::path& ckpt);  // to_hf.cpp

int run_export(const json& values, const host::PluginRegistry& registry) {
  const ExportOptions o = export_options(values);
  const ExportResult r = o.to_mcore ? export_to_mcore(o, registry) : export_to_hf(o, registry);
  spdlog::info("swift export: wrote {} to {} in {:.2f} s ({})", o.to_mcore ? "Megatron checkpoint" : "HF model",
               r.output.string(), r.seconds, rate_text(static_cast<double>(r.bytes), r.seconds));
  std::cout << "Successfully saved " << (o.to_mcore ? "Megatron model weights" : "HF model weights") << " in `"
            << r.output.string() << "`: " << r.bytes << " bytes in " << r.seconds << " s ("
            << rate_text(static_cast<double>(r.bytes), r.seconds) << ")\n";
  if (!o.test_convert_precision) return 0;
  if (o.test_convert_dtype != "float32")
    spdlog::warn("--test_convert_dtype {}: the comparison runs in float32 (the host runner's parameter dtype)",
                 o.test_convert_dtype);
  // Both sides in fp32: the HF directory through the HF mapping, the checkpoint through its stored tensors.
  const std::filesystem::path hf_dir = o.to_mcore ? o.model : o.output_dir;
  const std::filesystem::path ckpt_dir = o.to_mcore ? o.output_dir : o.mcore_model;
  host::RunnerOptions ro;
  auto hf = host::ModelRunner::from_hf_directory(registry, hf_dir, ro);
  auto ckpt = host::open_checkpoint(registry, ckpt_dir, o.load);
  auto mg = runner_from_checkpoint(registry, checkpoint_hf_config(ckpt_dir), *ckpt->reader,
                                   host::recorded_model(ckpt->common));
  print_report(compare_models(hf, mg), std::cout);
  return 0;
}

}  // namespace megaswift::exporter
