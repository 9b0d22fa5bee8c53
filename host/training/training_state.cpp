#include "host/training/training_state.hpp"

#include "host/checkpoint/model_io.hpp"
#include "host/checkpoint/save.hpp"

#include <spdlog/spdlog.h>

namespace megaswift::training {

using nlohmann::json;

std::filesystem::path save_training_checkpoint(const host::CheckpointFormat& format, const SaveSettings& s,
                                               int64_t iteration, const TrainingParts& p) {
  json common = host::common_state(iteration, s.checkpoint_args);
  common["opt_param_scheduler"] = p.scheduler.state();
  common["rng_state"] = s.save_rng ? json{{"seed", s.seed}, {"rng_step", p.runner.rng_step()}} : json();
  common["data_state"] = p.train.state();
  if (s.save_optimizer) common["optimizer"] = p.optimizer.state_record();
  const host::SaveRequest request{s.save_dir, iteration, common, s.args_json, s.model_dir};
  const std::filesystem::path dir = host::save_checkpoint(format, request, [&](host::CheckpointFormat::Writer& w) {
    std::vector<host::TensorShard> shards = host::parameter_shards(p.runner);
    if (s.save_optimizer)
      for (auto& shard : p.optimizer.state_shards()) shards.push_back(std::move(shard));
    // Formats write host memory: a GPU run's tensors are copied down first.
    for (auto& shard : shards) shard = host::on_host(std::move(shard), p.runner.exec_ctx().stream);
    w.write(shards);
  });
  spdlog::info("saved checkpoint at iteration {} to {}", iteration, dir.string());
  return dir;
}

void restore_training_state(const host::OpenCheckpoint& ckpt, host::ModelRunner& runner, OptimizerDriver& optimizer,
                            LrScheduler& scheduler) {
  if (ckpt.resume.rng_state.is_object() && ckpt.resume.rng_state.contains("rng_step"))
    runner.set_rng_step(ckpt.resume.rng_state["rng_step"].get<uint64_t>());
  if (!ckpt.resume.load_optimizer) return;
  optimizer.load(*ckpt.reader, ckpt.common.value("optimizer", json()));
  if (ckpt.resume.opt_param_scheduler.is_object()) scheduler.load_state(ckpt.resume.opt_param_scheduler);
}

}  // namespace megaswift::training
