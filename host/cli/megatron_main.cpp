// `megatron`: pre-training and fine-tuning (pt, sft) and the plugin list.
#include "host/cli/frontend.hpp"
#include "host/cli/plugins_command.hpp"
#include "host/cli/stage_commands.hpp"

int main(int argc, char** argv) {
  using namespace megaswift::cli;
  return run_frontend("megatron", argc, argv,
                      {{"pt", "pre-train: generative template, loss on every token", run_pt},
                       {"sft", "supervised fine-tuning: chat template, loss on assistant turns", run_sft},
                       {"plugins", "list the loaded plugin components and refused libraries", run_plugins_command}});
}
