#include "host/checkpoint/layout.hpp"

#include "host/checkpoint/test_kill_point.hpp"
#include "host/core/status.hpp"
#include "host/core/text_io.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace megaswift::host {
namespace {

// Checkpoint metadata (the tracker file, common.json): a regular file only, bounded (read_text_file).
std::string read_all(const fs::path& p) { return read_text_file(p, "checkpoint file"); }

std::string trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  const auto end = s.find_last_not_of(ws);
  s.erase(end == std::string::npos ? 0 : end + 1);
  return s;
}

bool is_stale_temp(const std::string& name) {
  const bool ours = name.rfind(".iter_", 0) == 0 || name.rfind(".release", 0) == 0;
  return ours && (name.find(".tmp-") != std::string::npos || name.find(".old-") != std::string::npos);
}

// write_file_atomic's temporary sibling: ".<name>.tmp-<pid>".
bool is_stale_temp_file(const std::string& name) {
  const auto at = name.rfind(".tmp-");
  if (name.size() < 2 || name[0] != '.' || at == std::string::npos || at == 0 || at + 5 == name.size()) return false;
  return name.find_first_not_of("0123456789", at + 5) == std::string::npos;
}

bool is_iteration_name(const std::string& name) {
  return name.size() == 12 && name.rfind("iter_", 0) == 0 &&
         name.find_first_not_of("0123456789", 5) == std::string::npos;
}

// The tokenizer and generation files ms-swift copies beside a converted model.
const char* const kModelFiles[] = {"config.json",           "generation_config.json", "tokenizer.json",
                                   "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                                   "merges.txt",            "tokenizer.model",         "added_tokens.json",
                                   "chat_template.jinja",   "chat_template.json",      "preprocessor_config.json"};

}  // namespace

std::string iteration_dir_name(int64_t iteration) {
  if (iteration < 0) return "release";
  char buf[32];
  std::snprintf(buf, sizeof buf, "iter_%07lld", static_cast<long long>(iteration));
  return buf;
}

fs::path iteration_dir(const fs::path& load_dir, int64_t iteration) { return load_dir / iteration_dir_name(iteration); }

std::optional<int64_t> read_tracker(const fs::path& save_dir) {
  const fs::path p = save_dir / kTrackerFile;
  if (!fs::exists(p)) return std::nullopt;
  const std::string text = trim(read_all(p));
  if (text == "release") return -1;
  try {
    size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw HostError(MSW_STATUS_INVALID_ARGUMENT, "tracker file " + p.string() + " holds '" + text +
                                                   "', expected an iteration number or 'release'");
}

void fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw HostError(MSW_STATUS_IO, "cannot open " + path.string() + " to fsync it: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw HostError(MSW_STATUS_IO, "fsync of " + path.string() + " failed: " + std::strerror(err));
}

void write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp-" + std::to_string(::getpid()));
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) throw HostError(MSW_STATUS_IO, "cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  fsync_path(tmp, false);
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw HostError(MSW_STATUS_IO, "cannot rename " + tmp.string() + " to " + path.string());
  }
  fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path(), true);
}

std::vector<int64_t> iteration_dirs_on_disk(const fs::path& save_dir) {
  std::vector<int64_t> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(save_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (is_iteration_name(name) && e.is_directory(ec)) found.push_back(std::stoll(name.substr(5)));
  }
  std::sort(found.rbegin(), found.rend());
  return found;
}

std::vector<fs::path> unfinished_save_leftovers(const fs::path& save_dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(save_dir, ec)) {
    const std::string name = e.path().filename().string();
    if ((is_stale_temp(name) && e.is_directory(ec)) || (is_stale_temp_file(name) && e.is_regular_file(ec)))
      found.push_back(e.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::optional<fs::path> aside_copy(const fs::path& iteration_dir) {
  const std::string prefix = "." + iteration_dir.filename().string() + ".old-";
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(iteration_dir.parent_path(), ec))
    if (e.is_directory() && e.path().filename().string().rfind(prefix, 0) == 0) return e.path();
  return std::nullopt;
}

int remove_stale_temp_dirs(const fs::path& save_dir) {
  int removed = 0;
  std::error_code ec;
  // A save that replaced an iteration and crashed between its two renames left the old copy aside and nothing
  // under the name the tracker may still point at: put it back first.
  for (const auto& e : fs::directory_iterator(save_dir, ec)) {
    const std::string name = e.path().filename().string();
    const auto at = name.find(".old-");
    if (name[0] != '.' || at == std::string::npos || !e.is_directory()) continue;
    const fs::path original = save_dir / name.substr(1, at - 1);
    if (fs::exists(original)) continue;
    spdlog::warn("restoring {} from {}: a save replacing it did not finish", original.string(), e.path().string());
    fs::rename(e.path(), original, ec);
    if (ec) throw HostError(MSW_STATUS_IO, "cannot restore " + original.string() + ": " + ec.message());
  }
  for (const auto& e : fs::directory_iterator(save_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (!is_stale_temp(name) || !e.is_directory()) continue;
    spdlog::info("removing {}: the temporary directory of a save that did not finish", e.path().string());
    fs::remove_all(e.path(), ec);
    if (ec) throw HostError(MSW_STATUS_IO, "cannot remove stale " + e.path().string() + ": " + ec.message());
    ++removed;
  }
  for (const auto& e : fs::directory_iterator(save_dir, ec)) {
    if (!is_stale_temp_file(e.path().filename().string()) || !e.is_regular_file()) continue;
    spdlog::info("removing {}: the temporary file of a write that did not finish", e.path().string());
    fs::remove(e.path(), ec);
    if (ec) throw HostError(MSW_STATUS_IO, "cannot remove stale " + e.path().string() + ": " + ec.message());
    ++removed;
  }
  return removed;
}

AtomicSave::AtomicSave(fs::path save_dir, int64_t iteration) : save_dir_(std::move(save_dir)), iteration_(iteration) {
  std::error_code ec;
  fs::create_directories(save_dir_, ec);
  if (ec) throw HostError(MSW_STATUS_IO, "cannot create checkpoint directory " + save_dir_.string() + ": " + ec.message());
  remove_stale_temp_dirs(save_dir_);
  const std::string name = iteration_dir_name(iteration_);
  final_ = save_dir_ / name;
  temp_ = save_dir_ / ("." + name + ".tmp-" + std::to_string(::getpid()));
  fs::create_directory(temp_, ec);
  if (ec) throw HostError(MSW_STATUS_IO, "cannot create " + temp_.string() + ": " + ec.message());
}

AtomicSave::~AtomicSave() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(temp_, ec);
}

void AtomicSave::commit() {
  // Data first: every file and folder of the new checkpoint is durable before any name points at it.
  for (const auto& e : fs::recursive_directory_iterator(temp_)) fsync_path(e.path(), e.is_directory());
  fsync_path(temp_, true);
  std::error_code ec;
  fs::path old;
  if (fs::exists(final_)) {
    // rename() cannot replace a non-empty directory: move the old one aside (still complete) and drop it once
    // the new one is in place.
    old = save_dir_ / ("." + final_.filename().string() + ".old-" + std::to_string(::getpid()));
    fs::remove_all(old, ec);
    fs::rename(final_, old, ec);
    if (ec) throw HostError(MSW_STATUS_IO, "cannot move the older " + final_.string() + " aside: " + ec.message());
    test_kill_point(KillPoint::aside);
  }
  fs::rename(temp_, final_, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, final_);
    throw HostError(MSW_STATUS_IO, "cannot rename " + temp_.string() + " to " + final_.string() + ": " + ec.message());
  }
  committed_ = true;
  fsync_path(save_dir_, true);
  if (!old.empty()) fs::remove_all(old, ec);
  test_kill_point(KillPoint::rename);
  // The tracker moves last: until here a reader still finds the previous iteration.
  write_file_atomic(save_dir_ / kTrackerFile, iteration_ < 0 ? "release" : std::to_string(iteration_));
  test_kill_point(KillPoint::tracker);
}

std::vector<std::string> copy_model_files(const fs::path& model_dir, const fs::path& dest) {
  std::vector<std::string> copied;
  for (const char* name : kModelFiles) {
    const fs::path src = model_dir / name;
    if (!fs::is_regular_file(src)) continue;
    if (fs::exists(dest / name) && fs::equivalent(src, dest / name)) continue;
    write_file_atomic(dest / name, read_all(src));
    copied.emplace_back(name);
  }
  return copied;
}

}  // namespace megaswift::host
