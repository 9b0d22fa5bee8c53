// When TensorBoardWriter writes its queued scalars: when queue_size of them wait (Megatron's
// --tensorboard_queue_size, SummaryWriter's max_queue), or when the oldest has waited two minutes (SummaryWriter's
// flush_secs), so a run that logs rarely still shows up in TensorBoard.
#pragma once

#include <chrono>
#include <cstddef>

namespace megaswift::report {

inline constexpr std::chrono::seconds kMaxPendingAge{120};

inline bool queue_write_due(std::size_t pending, std::size_t queue_size,
                            std::chrono::steady_clock::duration oldest_age) {
  return pending >= queue_size || oldest_age >= kMaxPendingAge;
}

}  // namespace megaswift::report
