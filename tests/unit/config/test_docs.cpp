#include "host/config/config.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace megaswift::config;

namespace {
// Help with its line wrapping undone, so a phrase can be found wherever a line broke.
std::string unwrapped(const std::string& help) {
  std::string out;
  for (std::size_t i = 0; i < help.size(); ++i) {
    if (help[i] == '\n' && help.compare(i + 1, 6, "      ") == 0) {
      out += ' ';
      i += 6;
    } else {
      out += help[i];
    }
  }
  return out;
}
}  // namespace

TEST_CASE("docs/cli.md is what the option registry generates") {
  const char* source = std::getenv("MEGASWIFT_SOURCE_DIR");
  const char* binary = std::getenv("MEGASWIFT_BINARY_DIR");
  REQUIRE(source != nullptr);
  const auto path = std::filesystem::path(source) / "docs" / "cli.md";
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string build = binary ? binary : "<build>";
  INFO("docs/cli.md is out of date with the option registry; regenerate it with: ninja -C "
       << build << " msw_gen_cli_doc && " << build << "/bin/msw_gen_cli_doc " << path.string());
  CHECK(text.str() == cli_markdown());
}

TEST_CASE("help lists every flag of the command with type, default, choices and aliases") {
  for (Command command : kAllCommands) {
    const std::string help = help_text(command);
    INFO(command_name(command));
    CHECK(help.starts_with("usage: " + std::string(command_name(command))));
    for (const auto& spelling : registry().spellings(command)) {
      const bool listed = help.find("--" + spelling + " ") != std::string::npos ||
                          help.find("--" + spelling + ")") != std::string::npos ||
                          help.find("--" + spelling + ",") != std::string::npos;
      INFO("--" << spelling);
      CHECK(listed);
    }
  }
  const std::string sft = help_text(Command::sft);
  CHECK(sft.find("  --recompute_granularity {full,selective}\n") != std::string::npos);
  CHECK(unwrapped(sft).find("(see --recompute_method). Default: selective.\n") != std::string::npos);
  CHECK(sft.find("  --save_interval INT  (alias --save_steps)\n") != std::string::npos);
  CHECK(sft.find("  --save STR  (alias --output_dir)\n") != std::string::npos);
  CHECK(unwrapped(sft).find("Evaluate every this many iterations. Default: --save_interval.") != std::string::npos);
  CHECK(sft.find("\nCheckpoint Parameters:\n") != std::string::npos);
  CHECK(sft.find("--to_hf") == std::string::npos);
  const std::string pt = help_text(Command::pt);
  CHECK(unwrapped(pt).find("megatron pt defaults to 'all'. Default: all.\n") != std::string::npos);  // loss_scale's pt default
  const std::string exp = help_text(Command::export_model);
  CHECK(exp.find("  --output_dir STR\n") != std::string::npos);
  CHECK(exp.find("--save ") == std::string::npos);
  CHECK(exp.find("Training Parameters") == std::string::npos);
}
