// TensorBoard event files, written as TensorFlow's EventFileWriter writes them (TFRecord framing, Event protobufs
// with simple_value scalars), so TensorBoard, torch's SummaryWriter readers and ms-swift's plotting read them.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace megaswift::report {

class TensorBoardWriter {
 public:
  // Creates <dir> (and parents) and the file events.out.tfevents.<unix seconds>.<hostname>.<pid>.<counter> in it,
  // starting with the file_version event ("brain.Event:2"). queue_size: scalars buffered before a write
  // (Megatron's --tensorboard_queue_size); flush() and the destructor write the rest and fsync. Buffered scalars
  // older than two minutes are also written at the next add_scalar (SummaryWriter's flush_secs), so a slow run
  // still shows up in TensorBoard. Thread-safe. Errors throw HostError naming the file.
  TensorBoardWriter(const std::filesystem::path& dir, std::size_t queue_size = 50);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);  // wall time = now
  void add_scalar(const std::string& tag, double value, int64_t step, double wall_time);
  void flush();
  const std::filesystem::path& file() const;

 private:
  void write_pending_locked();
  void write_all_locked(const std::string& bytes);

  std::filesystem::path file_;
  int fd_ = -1;
  std::size_t queue_size_;
  std::mutex mutex_;
  std::string pending_;  // framed records not yet written
  std::size_t pending_count_ = 0;
  std::chrono::steady_clock::time_point oldest_pending_;
};

struct ScalarEvent {
  std::string tag;
  int64_t step;
  double wall_time;
  float value;
};

// Reads every scalar of one event file, checking each record's length and data CRC (masked CRC32C); a bad file is
// an error naming the file and the byte offset. Used by tests and by plot_training_curves.
std::vector<ScalarEvent> read_scalars(const std::filesystem::path& event_file);

}  // namespace megaswift::report
