#include "host/report/tensorboard_writer.hpp"

#include "host/core/status.hpp"
#include "host/report/event_proto.hpp"
#include "host/report/tfrecord.hpp"
#include "host/report/write_policy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace megaswift::report {

namespace {

// Distinguishes writers opened by one process within one second, as TensorFlow's and torch's writers do.
std::atomic<uint64_t> g_file_counter{0};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

[[noreturn]] void io_error(const std::string& what, const std::filesystem::path& file, int err) {
  throw host::HostError(MSW_STATUS_IO, "TensorBoard writer: " + what + " " + file.string() + ": " + std::strerror(err));
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(const std::filesystem::path& dir, std::size_t queue_size)
    : queue_size_(queue_size == 0 ? 1 : queue_size) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw host::HostError(MSW_STATUS_IO, "TensorBoard writer: cannot create the log directory " + dir.string() + ": " +
                                             ec.message() + " (check --tensorboard_dir and its permissions)");
  const double start = now_seconds();
  const std::string stem = "events.out.tfevents." + std::to_string(static_cast<int64_t>(start)) + "." + host_name() +
                           "." + std::to_string(::getpid()) + ".";
  // O_EXCL: never append to another writer's file (a second writer in this second, or a restarted pid).
  for (int attempt = 0; fd_ < 0; ++attempt) {
    file_ = dir / (stem + std::to_string(g_file_counter.fetch_add(1)));
    fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0 && (errno != EEXIST || attempt >= 1000)) io_error("cannot create the event file", file_, errno);
  }
  try {
    write_all_locked(frame_record(encode_file_version_event(start, "brain.Event:2")));
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

TensorBoardWriter::~TensorBoardWriter() {
  try {
    flush();
  } catch (const std::exception& e) {
    // A destructor cannot throw; losing the tail of a log must not end the run, but it must be visible.
    spdlog::error("{} (the last {} scalars may be missing)", e.what(), pending_count_);
  }
  ::close(fd_);
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  add_scalar(tag, value, step, now_seconds());
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step, double wall_time) {
  // simple_value is a float: TensorBoard stores scalars in single precision.
  std::string record = frame_record(encode_scalar_event(wall_time, step, tag, static_cast<float>(value)));
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (pending_count_ == 0) oldest_pending_ = now;
  pending_ += record;
  ++pending_count_;
  if (queue_write_due(pending_count_, queue_size_, now - oldest_pending_)) write_pending_locked();
}

void TensorBoardWriter::flush() {
  std::lock_guard<std::mutex> lock(mutex_);
  write_pending_locked();
  if (::fsync(fd_) != 0) io_error("cannot fsync", file_, errno);
}

const std::filesystem::path& TensorBoardWriter::file() const { return file_; }

void TensorBoardWriter::write_pending_locked() {
  if (pending_.empty()) return;
  write_all_locked(pending_);
  pending_.clear();
  pending_count_ = 0;
}

void TensorBoardWriter::write_all_locked(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) io_error("cannot write", file_, errno);
    done += static_cast<std::size_t>(n);
  }
}

std::vector<ScalarEvent> read_scalars(const std::filesystem::path& event_file) {
  std::ifstream in(event_file, std::ios::binary);
  if (!in)
    throw host::HostError(MSW_STATUS_NOT_FOUND, "TensorBoard event file " + event_file.string() +
                                                    " cannot be opened: " + std::strerror(errno));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw host::HostError(MSW_STATUS_IO, "TensorBoard event file " + event_file.string() + ": read failed");
  std::vector<ScalarEvent> scalars;
  for (const Record& record : split_records(bytes, event_file)) {
    DecodedEvent event;
    try {
      event = decode_event(record.data);
    } catch (const std::invalid_argument& e) {
      throw host::HostError(MSW_STATUS_IO, "TensorBoard event file " + event_file.string() +
                                               ": the record at byte offset " + std::to_string(record.offset) +
                                               " is not an Event protobuf: " + e.what());
    }
    for (auto& [tag, value] : event.simple_values)
      scalars.push_back({std::move(tag), event.step, event.wall_time, value});
  }
  return scalars;
}

}  // namespace megaswift::report
