// What a resume would find in a save directory right after a kill: the checkpoint that --load picks, opened through
// the real plugins, and every stored tensor read back whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace crash_test {

struct ProbeResult {
  bool exists = false;    // a tracker or an iteration directory is there
  bool loadable = false;  // the checkpoint --load picks opens and every tensor reads
  int64_t iteration = 0;  // the iteration it holds (0 when nothing exists: a fresh start)
  std::string error;      // why it does not load
};

ProbeResult probe_latest_checkpoint(const std::filesystem::path& save_dir);

}  // namespace crash_test
