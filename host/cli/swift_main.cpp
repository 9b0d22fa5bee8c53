// `swift`: checkpoint conversion (export) and chat (infer).
#include "host/cli/frontend.hpp"
#include "host/cli/stage_commands.hpp"

int main(int argc, char** argv) {
  using namespace megaswift::cli;
  return run_frontend("swift", argc, argv,
                      {{"export", "convert between Hugging Face and Megatron checkpoints", run_export},
                       {"infer", "chat with a model (HF directory or Megatron checkpoint)", run_infer}});
}
