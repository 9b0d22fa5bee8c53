#include "kill_harness.hpp"

#include "test_paths.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace crash_test {
namespace {

constexpr double kRunLimitSeconds = 300;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The dump's whole lines: a kill can cut the last one short.
std::vector<Step> read_dump(const fs::path& file) {
  std::vector<Step> steps;
  std::istringstream in(slurp(file));
  for (std::string line; std::getline(in, line);) {
    if (in.eof()) break;  // no newline after it: cut short
    try {
      const auto j = nlohmann::json::parse(line);
      steps.push_back({j.at("iteration").get<int64_t>(), j.at("loss").get<double>()});
    } catch (const nlohmann::json::exception&) {
      break;
    }
  }
  return steps;
}

std::optional<int64_t> resumed_from(const std::string& log) {
  static const std::regex re("resuming at iteration ([0-9]+)");
  std::smatch m;
  if (std::regex_search(log, m, re)) return std::stoll(m[1].str());
  return std::nullopt;
}

}  // namespace

std::string tail(const std::string& log, size_t lines) {
  size_t at = log.size();
  for (size_t n = 0; n <= lines && at != std::string::npos && at > 0; ++n) at = log.rfind('\n', at - 1);
  return at == std::string::npos ? log : log.substr(at + 1);
}

KillHarness::KillHarness(fs::path work, RunSettings settings) : work_(std::move(work)), settings_(std::move(settings)) {
  fs::create_directories(work_);
}

std::vector<std::string> KillHarness::argv(const fs::path& save_dir) const {
  // One worker thread and one tokenizing process: the run's own threads are the only ones a kill interrupts.
  return {(megaswift::testing::binary_dir() / "bin" / "megatron").string(),
          "pt", "--model", settings_.model.string(), "--dataset", "megaswift/pt-corpus#64", "--max_length", "64",
          "--split_dataset_ratio", "0", "--train_iters", std::to_string(settings_.train_iters),
          "--micro_batch_size", "1", "--global_batch_size", "2", "--lr", "1e-3", "--min_lr", "1e-4",
          "--lr_warmup_iters", "2", "--eval_iters", "0", "--log_interval", "1", "--num_workers", "1",
          "--dataset_num_proc", "1", "--seed", "42", "--save", save_dir.string(), "--load", save_dir.string(),
          "--add_version", "false", "--save_interval", std::to_string(settings_.save_interval),
          "--exit_on_missing_checkpoint", "false"};
}

fs::path KillHarness::new_save_dir(const std::string& tag) {
  const fs::path dir = work_ / ("run-" + tag);
  fs::remove_all(dir);
  return dir;
}

Attempt KillHarness::run(const fs::path& save_dir, const std::vector<std::string>& env, std::optional<KillPlan> kill) {
  const int n = ++attempts_;
  const fs::path dump = work_ / ("steps-" + std::to_string(n) + ".jsonl");
  const fs::path log = work_ / ("log-" + std::to_string(n) + ".txt");
  fs::remove(dump);
  std::vector<std::string> full_env = env;
  full_env.push_back("MEGASWIFT_DUMP_STEPS=" + dump.string());
  ChildProcess child(argv(save_dir), full_env, log);
  Attempt a;
  // The moment the kill counts from: the start, or the first completed step (the dump's first bytes).
  std::optional<double> anchor;
  if (kill && !kill->from_first_step) anchor = 0.0;
  for (;;) {
    if (auto done = child.wait_for(std::chrono::milliseconds(2))) {
      a.exit = *done;
      break;
    }
    const double now = child.seconds_running();
    std::error_code ec;
    if (kill && !anchor && fs::file_size(dump, ec) > 0 && !ec) anchor = now;
    if (anchor && now >= *anchor + kill->seconds) {
      a.exit = child.kill_now();
      break;
    }
    if (now > kRunLimitSeconds) {
      child.kill_now();
      throw std::runtime_error("megatron pt ran over " + std::to_string(kRunLimitSeconds) + " s; log " + log.string());
    }
  }
  a.log = slurp(log);
  a.steps = read_dump(dump);
  a.resumed_from = resumed_from(a.log);
  a.killed_by_hook = a.log.find("MEGASWIFT_TEST_KILL_AT: SIGKILL at ") != std::string::npos;
  return a;
}

const Reference& KillHarness::reference() {
  if (reference_) return *reference_;
  const fs::path save_dir = new_save_dir("reference");
  const fs::path dump = work_ / "reference.jsonl";
  const fs::path log = work_ / "reference-log.txt";
  fs::remove(dump);
  ChildProcess child(argv(save_dir), {"MEGASWIFT_DUMP_STEPS=" + dump.string()}, log);
  double first_step = -1;
  std::optional<ChildExit> done;
  while (!(done = child.wait_for(std::chrono::milliseconds(5)))) {
    std::error_code ec;
    if (first_step < 0 && fs::file_size(dump, ec) > 0 && !ec) first_step = child.seconds_running();
    if (child.seconds_running() > kRunLimitSeconds) {
      child.kill_now();
      throw std::runtime_error("the reference run took over 300 s; log " + log.string());
    }
  }
  if (done->exit_code != 0)
    throw std::runtime_error("the reference run failed (exit " + std::to_string(done->exit_code) + ", signal " +
                             std::to_string(done->signal) + "):\n" + tail(slurp(log)));
  Reference r;
  for (const Step& s : read_dump(dump)) r.loss[s.iteration] = s.loss;
  if (static_cast<int64_t>(r.loss.size()) != settings_.train_iters)
    throw std::runtime_error("the reference run logged " + std::to_string(r.loss.size()) + " steps, not " +
                             std::to_string(settings_.train_iters));
  r.startup_seconds = first_step < 0 ? done->seconds : first_step;
  r.seconds_per_step = std::max(0.0, done->seconds - r.startup_seconds) / static_cast<double>(settings_.train_iters);
  reference_ = r;
  return *reference_;
}

Verdict KillHarness::verify(const Attempt& a, int64_t start, const fs::path& save_dir) {
  const Reference& ref = reference();
  Verdict v;
  auto problem = [&](const std::string& what) { v.problems.push_back(what + "\n--- log tail ---\n" + tail(a.log)); };
  const bool killed = a.exit.signal == SIGKILL;
  if (!killed && a.exit.exit_code != 0)
    problem("the run failed with exit code " + std::to_string(a.exit.exit_code) + " and signal " +
            std::to_string(a.exit.signal));
  if (a.resumed_from && *a.resumed_from != start)
    problem("it resumed at iteration " + std::to_string(*a.resumed_from) + ", but the checkpoint left before it is at " +
            std::to_string(start));
  if (!a.resumed_from && start > 0 && !a.steps.empty())
    problem("it trained without resuming, but a checkpoint at iteration " + std::to_string(start) + " was there");
  int64_t expected = start + 1;
  for (const Step& s : a.steps) {
    if (s.iteration != expected) {
      problem("its step " + std::to_string(s.iteration) + " came where " + std::to_string(expected) + " was due");
      break;
    }
    ++expected;
    const auto it = ref.loss.find(s.iteration);
    if (it == ref.loss.end()) {
      problem("it ran iteration " + std::to_string(s.iteration) + ", past the reference's end");
      break;
    }
    const double diff = std::fabs(s.loss - it->second);
    v.max_loss_diff = std::max(v.max_loss_diff, std::isnan(diff) ? INFINITY : diff);
    // CPU training is deterministic and a resume restores weights, optimizer, schedule, RNG and data position
    // exactly: the losses must be the reference's bit for bit.
    if (s.loss != it->second) {
      std::ostringstream m;
      m.precision(17);
      m << "iteration " << s.iteration << ": loss " << s.loss << " where the uninterrupted run had " << it->second;
      problem(m.str());
    }
  }
  v.last_completed = a.steps.empty() ? start : a.steps.back().iteration;
  v.after = probe_latest_checkpoint(save_dir);
  if (v.after.exists && !v.after.loadable) problem("the latest checkpoint does not load: " + v.after.error);
  if (!killed) {
    if (a.exit.exit_code == 0 && v.last_completed != settings_.train_iters)
      problem("it exited 0 after iteration " + std::to_string(v.last_completed));
    if (a.exit.exit_code == 0 && v.after.iteration != settings_.train_iters)
      problem("it finished, but the checkpoint a resume finds is at iteration " + std::to_string(v.after.iteration));
    return v;
  }
  v.resume_gap = v.last_completed - v.after.iteration;
  if (v.resume_gap < 0 || v.resume_gap > settings_.save_interval)
    problem("killed after iteration " + std::to_string(v.last_completed) + ", the checkpoint a resume finds is at " +
            std::to_string(v.after.iteration) + ": more than one save interval (" +
            std::to_string(settings_.save_interval) + ") apart");
  return v;
}

}  // namespace crash_test
