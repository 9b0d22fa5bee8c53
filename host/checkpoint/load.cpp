#include "host/checkpoint/load.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/core/status.hpp"
#include "host/model/safetensors.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace fs = std::filesystem;
using nlohmann::json;

namespace megaswift::host {

std::unique_ptr<CheckpointFormat> choose_format(const PluginRegistry& registry, const fs::path& dir,
                                                const LoadOptions& options) {
  if (!options.auto_detect)
    return std::make_unique<CheckpointFormat>(require_checkpoint_format(registry, options.ckpt_format));
  std::vector<std::pair<int32_t, std::unique_ptr<CheckpointFormat>>> scored;
  for (const std::string& name : checkpoint_format_names(registry)) {
    auto f = std::make_unique<CheckpointFormat>(require_checkpoint_format(registry, name));
    const int32_t score = f->probe(dir);
    scored.emplace_back(score, std::move(f));
  }
  // Highest score; ties keep the first by name (stable), so the choice is reproducible.
  std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  if (scored.empty())
    throw HostError(MSW_STATUS_NOT_FOUND, "cannot read checkpoint " + dir.string() +
                                              ": no checkpoint-format plugin is loaded (check --plugin_path)");
  if (scored.front().first <= 0) {
    std::string list;
    for (const auto& [score, f] : scored) list += (list.empty() ? "" : ", ") + f->name() + " " + std::to_string(score);
    throw HostError(MSW_STATUS_NOT_FOUND, "no checkpoint-format plugin recognises " + dir.string() +
                                              " (probe scores: " + list +
                                              "); is it a Megatron checkpoint? pass --ckpt_format NAME "
                                              "--auto_detect_ckpt_format false to force one");
  }
  spdlog::info("checkpoint {}: format {} (probe score {})", dir.string(), scored.front().second->name(),
               scored.front().first);
  return std::move(scored.front().second);
}

ResumeState resume_state(const json& common, int64_t iteration, const LoadOptions& o) {
  auto member = [&](const char* k) { return common.is_object() && common.contains(k) ? common[k] : json(); };
  ResumeState r;
  r.iteration = o.finetune ? 0 : (iteration < 0 ? 0 : iteration);
  r.load_optimizer = !o.finetune && !o.no_load_optim;
  if (r.load_optimizer) r.opt_param_scheduler = member("opt_param_scheduler");
  if (!o.finetune && !o.no_load_rng) r.rng_state = member("rng_state");
  if (!o.finetune) r.data_state = member("data_state");
  return r;
}

namespace {

// The checkpoint of one iteration: the directory (or the copy an unfinished save of it moved aside), its format,
// reader and common state. HostError when any of them is missing or unreadable.
OpenCheckpoint open_iteration(const PluginRegistry& registry, const fs::path& load_dir, int64_t iteration,
                              const LoadOptions& options) {
  OpenCheckpoint c;
  c.load_dir = load_dir;
  c.iteration = iteration;
  c.dir = iteration_dir(load_dir, c.iteration);
  if (!fs::is_directory(c.dir)) {
    if (auto aside = aside_copy(c.dir)) {
      spdlog::warn("{} is missing; loading {}, the copy a save replacing it moved aside before it crashed",
                   c.dir.string(), aside->string());
      c.dir = *aside;
    }
  }
  if (!fs::is_directory(c.dir))
    throw HostError(MSW_STATUS_NOT_FOUND, (load_dir / kTrackerFile).string() + " names iteration " +
                                              iteration_dir_name(c.iteration) + " but " + c.dir.string() +
                                              " does not exist");
  c.format = choose_format(registry, c.dir, options);
  c.reader = c.format->open(c.dir);
  try {
    c.common = json::parse(c.reader->common_json());
  } catch (const json::exception& e) {
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, c.format->name() + " checkpoint " + c.dir.string() +
                                                     ": the common state is not JSON: " + e.what());
  }
  c.resume = resume_state(c.common, c.iteration, options);
  return c;
}

void report_leftovers(const fs::path& load_dir) {
  const std::vector<fs::path> leftovers = unfinished_save_leftovers(load_dir);
  if (leftovers.empty()) return;
  std::string list;
  for (const fs::path& p : leftovers) list += (list.empty() ? "" : ", ") + p.filename().string();
  spdlog::info("--load {}: ignoring what {} killed midway left ({}); the next save into it removes them",
               load_dir.string(), leftovers.size() == 1 ? "a save" : "saves", list);
}

}  // namespace

std::optional<OpenCheckpoint> open_checkpoint(const PluginRegistry& registry, const fs::path& load_dir,
                                              const LoadOptions& options) {
  report_leftovers(load_dir);
  // The tracker is the commit point of a save and names what loads; the iteration directories on disk are the
  // fallback when it cannot be followed. A save renames its directory into place only once every file in it is
  // durable, so a directory under its final name is whole even when the process died before the tracker moved.
  const std::vector<int64_t> on_disk = iteration_dirs_on_disk(load_dir);
  std::optional<int64_t> tracked;
  std::exception_ptr tracker_error;
  try {
    tracked = read_tracker(load_dir);
  } catch (const HostError& e) {
    if (on_disk.empty()) throw;
    tracker_error = std::current_exception();
    spdlog::warn("{}; trying the iteration directories in {}, newest first", e.what(), load_dir.string());
  }
  if (!tracked && !tracker_error) {
    const std::string what = "--load " + load_dir.string() + ": no checkpoint tracker file " +
                             (load_dir / kTrackerFile).string();
    if (on_disk.empty()) {
      if (options.exit_on_missing)
        throw HostError(MSW_STATUS_NOT_FOUND, what + " (is it a Megatron checkpoint directory? with "
                                                     "--exit_on_missing_checkpoint false the run starts from scratch)");
      spdlog::warn("{}; starting from scratch (--exit_on_missing_checkpoint false)", what);
      return std::nullopt;
    }
    spdlog::warn("{}, but it holds {}: the first save into it was killed before it wrote the tracker; trying the "
                 "iteration directories, newest first",
                 what, iteration_dir_name(on_disk.front()));
  }
  if (tracked)
    for (int64_t it : on_disk)
      if (it > *tracked)
        spdlog::info("--load {}: {} is newer than the tracker's iteration {} (a save killed before its tracker update); "
                     "resuming from the tracker's, the run saves that iteration again",
                     load_dir.string(), iteration_dir_name(it), *tracked);
  std::vector<int64_t> candidates;
  if (tracked) candidates.push_back(*tracked);
  for (int64_t it : on_disk)
    if (!tracked || it != *tracked) candidates.push_back(it);
  std::exception_ptr first_error = tracker_error;
  for (size_t i = 0; i < candidates.size(); ++i) {
    try {
      OpenCheckpoint c = open_iteration(registry, load_dir, candidates[i], options);
      if (tracked && c.iteration != *tracked)
        spdlog::warn("--load {}: loading {} instead of the tracker's iteration {}, the newest checkpoint that opens",
                     load_dir.string(), iteration_dir_name(c.iteration), *tracked);
      return c;
    } catch (const HostError& e) {
      if (!first_error) first_error = std::current_exception();
      if (i + 1 < candidates.size())
        spdlog::warn("cannot load {}: {}; trying {}", iteration_dir_name(candidates[i]), e.what(),
                     iteration_dir_name(candidates[i + 1]));
    }
  }
  std::rethrow_exception(first_error);
}

void check_tensors(const CheckpointReader& reader, const std::vector<ExpectedTensor>& expected, const std::string& model,
                   const std::string& recorded) {
  std::vector<std::string> missing;
  for (const auto& e : expected) {
    const StoredTensor* t = reader.find(e.key);
    if (!t) {
      missing.push_back(e.key);
      continue;
    }
    if (t->global_shape != e.global_shape)
      throw HostError(MSW_STATUS_SHAPE_MISMATCH, "checkpoint " + reader.dir().string() + ": tensor " + e.key +
                                                     " has shape " + shape_string(t->global_shape) + ", but " + model +
                                                     " expects " + shape_string(e.global_shape) +
                                                     (recorded.empty() ? "" : " (the checkpoint records " + recorded + ")"));
  }
  if (missing.empty()) return;
  std::string list;
  for (size_t i = 0; i < missing.size() && i < 4; ++i) list += (i ? ", " : "") + missing[i];
  if (missing.size() > 4) list += ", ...";
  const bool other_model = missing.size() * 2 > expected.size();
  throw HostError(MSW_STATUS_NOT_FOUND,
                  "checkpoint " + reader.dir().string() + " lacks " + std::to_string(missing.size()) + " of the " +
                      std::to_string(expected.size()) + " tensors " + model + " expects (" + list + ")" +
                      (other_model ? ": it is a checkpoint of another model" : "") +
                      (recorded.empty() ? "" : " (the checkpoint records " + recorded + ")"));
}

}  // namespace megaswift::host
