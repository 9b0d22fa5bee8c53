// TensorBoard event files as read_scalars reads them back (host/report): TFRecord framing with CRC32C, then
// each record as an Event protobuf. The first input byte chooses what the rest is: odd, a raw event file (the
// framing and CRC checks); even, records separated by "\n--\n", framed correctly here so that the Event
// decoder behind the CRCs gets the fuzzer's bytes.
#include "fuzz_support.hpp"
#include "quiet_logs.hpp"
#include "host/core/status.hpp"
#include "host/report/tensorboard_writer.hpp"
#include "host/report/tfrecord.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest = msw_fuzz::as_text(data + 1, size - 1);
  std::string file;
  if (data[0] & 1) {
    file = rest;
  } else {
    size_t start = 0;
    for (;;) {
      const size_t sep = rest.find("\n--\n", start);
      file += megaswift::report::frame_record(rest.substr(start, sep == std::string_view::npos ? sep : sep - start));
      if (sep == std::string_view::npos) break;
      start = sep + 4;
    }
  }
  const auto path = msw_fuzz::scratch().write("events.out.tfevents", file);
  try {
    (void)megaswift::report::read_scalars(path);
  } catch (const megaswift::host::HostError& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}
