// SIGINT/SIGTERM during training: the handler only records the signal; the loop stops after the current step.
// A second SIGINT while one is pending restores the default action, so Ctrl-C twice still ends a stuck run.
#pragma once

namespace megaswift::training {

// Installs the handlers for its lifetime and restores the previous ones after.
class StopSignalScope {
 public:
  StopSignalScope();
  ~StopSignalScope();
  StopSignalScope(const StopSignalScope&) = delete;
  StopSignalScope& operator=(const StopSignalScope&) = delete;
};

// The signal received since the scope began, or 0.
int stop_signal_received();
const char* stop_signal_name(int signal);

}  // namespace megaswift::training
