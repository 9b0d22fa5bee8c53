// Megatron's checkpoint directory layout and the atomic save around it:
//   <save>/latest_checkpointed_iteration.txt   "100" (no newline) or "release"
//   <save>/iter_0000100/                       what the format plugin writes
//   <save>/args.json, config.json, generation_config.json, tokenizer files  (so --load DIR alone suffices)
// A save writes into <save>/.iter_0000100.tmp-<pid>, fsyncs every file and the directory, renames it into
// place (an older iter_0000100 is moved aside first and removed only after the rename), fsyncs <save>, and
// replaces the tracker last through a temporary file and rename. A crash at any point leaves the previous
// tracker pointing at a complete directory: a crash between the two renames that replace the same iteration
// leaves the old copy aside, which loads use and the next save renames back.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace megaswift::host {

inline constexpr const char* kTrackerFile = "latest_checkpointed_iteration.txt";

// "iter_0000100"; -1 is "release".
std::string iteration_dir_name(int64_t iteration);

// The tracker's iteration (-1 for "release"); nullopt when the file does not exist; HostError naming the file
// when its text is neither an integer nor "release".
std::optional<int64_t> read_tracker(const std::filesystem::path& save_dir);

// fsync of a file or directory; HostError naming the path on failure.
void fsync_path(const std::filesystem::path& path, bool directory);
// Writes `text` to `path` through a temporary sibling, fsync and rename (then fsyncs the parent).
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

class AtomicSave {
 public:
  // Creates <save_dir> if needed, removes stale temporary directories of earlier crashed saves (with a log
  // line), and creates this save's empty temporary directory.
  AtomicSave(std::filesystem::path save_dir, int64_t iteration);
  // Without commit(), the temporary directory is removed (the previous checkpoint stays as it was).
  ~AtomicSave();
  AtomicSave(const AtomicSave&) = delete;
  AtomicSave& operator=(const AtomicSave&) = delete;

  const std::filesystem::path& temp_dir() const { return temp_; }
  const std::filesystem::path& final_dir() const { return final_; }
  // fsync every file below the temporary directory and the directories, rename it into place, fsync the
  // save directory, then replace the tracker.
  void commit();

 private:
  std::filesystem::path save_dir_, temp_, final_;
  int64_t iteration_;
  bool committed_ = false;
};

// Removes <save_dir>/.iter_*.tmp-* left by saves that crashed (and the .<file>.tmp-<pid> of atomic file writes
// killed midway); returns how many were removed. An older copy moved
// aside (.iter_X.old-<pid>) by a save that replaced iter_X and crashed before its rename is renamed back first.
// (The two directory iterations are separate so a restored directory is never removed.)
int remove_stale_temp_dirs(const std::filesystem::path& save_dir);

// The iteration directories (iter_XXXXXXX, not release) below `save_dir`, newest first; temporary and aside
// copies are not among them.
std::vector<int64_t> iteration_dirs_on_disk(const std::filesystem::path& save_dir);

// The temporary directories and files that saves killed midway left in `save_dir` (loads ignore them; the next
// save removes them).
std::vector<std::filesystem::path> unfinished_save_leftovers(const std::filesystem::path& save_dir);

// The copy of `iteration_dir` that an unfinished save of the same iteration moved aside, if any.
std::optional<std::filesystem::path> aside_copy(const std::filesystem::path& iteration_dir);

// The checkpoint directory that `load_dir` names: <load_dir>/iter_XXXXXXX (or release) per the tracker.
std::filesystem::path iteration_dir(const std::filesystem::path& load_dir, int64_t iteration);

// Copies the HF model description beside a checkpoint (config.json, generation_config.json and the tokenizer
// files that exist in `model_dir`) into `dest` through atomic writes; returns the names copied.
std::vector<std::string> copy_model_files(const std::filesystem::path& model_dir, const std::filesystem::path& dest);

}  // namespace megaswift::host
