// The subcommands that run a stage of the product: megatron pt/sft, swift export/infer.
#pragma once

#include <string>
#include <vector>

namespace megaswift::cli {

int run_pt(const std::vector<std::string>& args);
int run_sft(const std::vector<std::string>& args);
int run_export(const std::vector<std::string>& args);
int run_infer(const std::vector<std::string>& args);

}  // namespace megaswift::cli
