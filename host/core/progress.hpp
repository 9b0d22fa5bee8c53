// Progress bars for long host jobs (tokenizing a dataset, saving a checkpoint): one log line at most
// every few seconds and a final line, so logs from many ranks stay short.
#pragma once

#include <megaswift/c/host.h>

struct msw_progress;

namespace megaswift::host {

msw_progress* progress_begin(const char* label, int64_t total);
void progress_advance(msw_progress* progress, int64_t done);
void progress_end(msw_progress* progress);

}  // namespace megaswift::host
