// The command-line parser of megatron pt/sft and swift export/infer (host/config), as the front ends call it:
// parse, derive the dependent defaults, validate. The first input byte picks the command; the rest is split
// at newlines into argv words (so a word holds any other byte, NUL and invalid UTF-8 included).
#include "fuzz_support.hpp"
#include "quiet_logs.hpp"
#include "host/config/args.hpp"
#include "host/config/error.hpp"

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace megaswift::config;
  if (size == 0) return 0;
  const Command command = kAllCommands[data[0] % kAllCommands.size()];
  std::vector<std::string> words;
  const std::string_view rest = msw_fuzz::as_text(data + 1, size - 1);
  size_t start = 0;
  while (start <= rest.size()) {
    const size_t nl = rest.find('\n', start);
    const size_t end = nl == std::string_view::npos ? rest.size() : nl;
    if (end > start) words.emplace_back(rest.substr(start, end - start));
    start = end + 1;
  }
  try {
    ParsedArgs args = parse_command_line(command, words);
    resolve_derived_defaults(args);
  } catch (const ConfigError& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}
