// Help text for one command (what `--help` prints) and the Markdown reference docs/cli.md, both
// generated from the option registry so they cannot disagree with the parser.
#pragma once

#include "host/config/command.hpp"

#include <string>

namespace megaswift::config {

std::string help_text(Command command);

// The whole of docs/cli.md (msw_gen_cli_doc writes it; a unit test compares it with the file).
std::string cli_markdown();

}  // namespace megaswift::config
