#include "host/training/stop_signal.hpp"

#include <atomic>
#include <csignal>

namespace megaswift::training {
namespace {

std::atomic<int> g_signal{0};
struct sigaction g_old_int {}, g_old_term {};

extern "C" void on_stop_signal(int sig) {
  if (g_signal.load() != 0 && sig == SIGINT) {
    std::signal(SIGINT, SIG_DFL);  // async-signal-safe; a third Ctrl-C ends the process
    return;
  }
  g_signal.store(sig);
}

}  // namespace

StopSignalScope::StopSignalScope() {
  g_signal.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

StopSignalScope::~StopSignalScope() {
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

int stop_signal_received() { return g_signal.load(); }

const char* stop_signal_name(int sig) {
  switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    default: return "a stop signal";
  }
}

}  // namespace megaswift::training
