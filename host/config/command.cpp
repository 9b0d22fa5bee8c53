#include "host/config/command.hpp"

namespace megaswift::config {

std::string_view command_name(Command command) {
  switch (command) {
    case Command::pt: return "megatron pt";
    case Command::sft: return "megatron sft";
    case Command::export_model: return "swift export";
    case Command::infer: return "swift infer";
  }
  return "unknown command";
}

std::string_view command_key(Command command) {
  switch (command) {
    case Command::pt: return "pt";
    case Command::sft: return "sft";
    case Command::export_model: return "export";
    case Command::infer: return "infer";
  }
  return "unknown";
}

std::string_view command_summary(Command command) {
  switch (command) {
    case Command::pt: return "Pre-training: the generation template (no chat markup) with loss on every token.";
    case Command::sft: return "Supervised fine-tuning: the model's chat template with loss on the assistant turns.";
    case Command::export_model:
      return "Convert a Hugging Face model to a Megatron checkpoint (--to_mcore) or back (--to_hf).";
    case Command::infer: return "Chat with a model, or answer the questions of --val_dataset.";
  }
  return "";
}

std::vector<Command> CommandSet::list() const {
  std::vector<Command> out;
  for (Command c : kAllCommands)
    if (contains(c)) out.push_back(c);
  return out;
}

static std::string join_commands(const CommandSet& set, std::string_view (*name)(Command)) {
  std::string out;
  for (Command c : set.list()) {
    if (!out.empty()) out += ", ";
    out += name(c);
  }
  return out;
}

std::string CommandSet::names() const { return join_commands(*this, command_name); }
std::string CommandSet::keys() const { return join_commands(*this, command_key); }

}  // namespace megaswift::config
