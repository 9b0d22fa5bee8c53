// The crash-safety scenario: a real `megatron pt` CPU run on the tiny model with frequent saves, started again and
// again on one save directory (--load = --save) and killed with SIGKILL, either by the kill hook at a named point
// (MEGASWIFT_TEST_KILL_AT, host/checkpoint/test_kill_point.hpp) or after a random delay. Each attempt is checked
// against an uninterrupted reference run of the same command.
#pragma once

#include "child_process.hpp"
#include "checkpoint_probe.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace crash_test {

struct RunSettings {
  std::filesystem::path model;
  int64_t train_iters = 16;
  int64_t save_interval = 2;
};

struct Step {
  int64_t iteration = 0;
  double loss = 0;
};

struct Attempt {
  ChildExit exit;
  std::optional<int64_t> resumed_from;  // "resuming at iteration N" in the log
  std::vector<Step> steps;              // the iterations it completed (the step dump's whole lines)
  std::string log;
  bool killed_by_hook = false;          // the hook's "SIGKILL at <point>" line is in the log
};

// When a random kill comes: `seconds` after the start, or after the attempt completed its first step (so that kills
// spread over the steps and saves rather than over the start-up, which is the same in every attempt).
struct KillPlan {
  double seconds = 0;
  bool from_first_step = false;
};

// The reference: every iteration's loss of the uninterrupted run, and how long its start-up and steps took.
struct Reference {
  std::map<int64_t, double> loss;
  double startup_seconds = 0;  // start to the first completed step
  double seconds_per_step = 0;
};

// What one attempt broke; empty when it kept every promise.
struct Verdict {
  std::vector<std::string> problems;
  ProbeResult after;          // the checkpoint a resume finds after it
  int64_t last_completed = 0;  // the last iteration it completed (its start when none)
  int64_t resume_gap = 0;      // last_completed - after.iteration, for a killed attempt
  double max_loss_diff = 0;    // against the reference, over its steps
};

class KillHarness {
 public:
  KillHarness(std::filesystem::path work, RunSettings settings);

  const RunSettings& settings() const { return settings_; }
  // Runs the uninterrupted reference (once; later calls return it).
  const Reference& reference();
  // A fresh, empty save directory for a chain of attempts.
  std::filesystem::path new_save_dir(const std::string& tag);
  // One attempt on `save_dir`: `env` is added to its environment; with `kill` it is killed unless it ends first. A run
  // that takes over 5 minutes is killed and reported.
  Attempt run(const std::filesystem::path& save_dir, const std::vector<std::string>& env,
              std::optional<KillPlan> kill = std::nullopt);
  // Checks an attempt that started from the checkpoint at `start` (0: none): it resumed there, its losses are the
  // reference's bit for bit, and, when it was killed, the checkpoint left behind loads and is at most one save
  // interval behind the last iteration it completed.
  Verdict verify(const Attempt& attempt, int64_t start, const std::filesystem::path& save_dir);

 private:
  std::vector<std::string> argv(const std::filesystem::path& save_dir) const;

  std::filesystem::path work_;
  RunSettings settings_;
  std::optional<Reference> reference_;
  int attempts_ = 0;
};

// The tail of a log for a failure message.
std::string tail(const std::string& log, size_t lines = 25);

}  // namespace crash_test
