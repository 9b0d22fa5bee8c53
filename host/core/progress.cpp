#include "host/core/progress.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

struct msw_progress {
  std::string label;
  int64_t total;
  std::atomic<int64_t> done{0};
  std::chrono::steady_clock::time_point start;
  std::mutex report_mutex;
  std::chrono::steady_clock::time_point last_report;
};

namespace megaswift::host {
namespace {
constexpr auto kReportEvery = std::chrono::seconds(5);

// Counts of any unit (rows, bytes) read better with an SI suffix once they are large: 55.0M rather than 55042584.
std::string si(double v) {
  static const char* const suffix[] = {"", "k", "M", "G", "T"};
  int i = 0;
  while (v >= 1e4 && i < 4) {
    v /= 1e3;
    ++i;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, i ? "%.1f%s" : "%.0f%s", v, suffix[i]);
  return buf;
}

void report(msw_progress* p, bool final) {
  auto now = std::chrono::steady_clock::now();
  double seconds = std::chrono::duration<double>(now - p->start).count();
  int64_t done = p->done.load();
  double rate = seconds > 0 ? done / seconds : 0.0;
  if (p->total > 0)
    spdlog::info("{}: {}/{} ({:.1f}%) {}/s{}", p->label, si(double(done)), si(double(p->total)), 100.0 * done / p->total,
                 si(rate), final ? " done" : "");
  else
    spdlog::info("{}: {} {}/s{}", p->label, si(double(done)), si(rate), final ? " done" : "");
}
}  // namespace

msw_progress* progress_begin(const char* label, int64_t total) {
  auto* p = new msw_progress;
  p->label = label ? label : "progress";
  p->total = total;
  p->start = p->last_report = std::chrono::steady_clock::now();
  return p;
}

void progress_advance(msw_progress* p, int64_t done) {
  if (!p) return;
  p->done.fetch_add(done);
  auto now = std::chrono::steady_clock::now();
  std::unique_lock lock(p->report_mutex, std::try_to_lock);
  if (lock.owns_lock() && now - p->last_report >= kReportEvery) {
    p->last_report = now;
    report(p, false);
  }
}

void progress_end(msw_progress* p) {
  if (!p) return;
  report(p, true);
  delete p;
}

}  // namespace megaswift::host
