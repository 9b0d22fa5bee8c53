// Test helper: splits a shell command line as the seed's quick start writes them (backslash line
// continuations, single and double quotes, leading VAR=value assignments) and maps it to a command.
#pragma once

#include "host/config/command.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace megaswift::config::test {

inline std::vector<std::string> shell_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      if (text[i + 1] != '\n') {
        word += text[i + 1];
        in_word = true;
      }
      ++i;
    } else if (c == '\'' || c == '"') {
      const auto end = text.find(c, i + 1);
      if (end == std::string::npos) throw std::invalid_argument("unclosed quote in: " + text);
      word += text.substr(i + 1, end - i - 1);
      in_word = true;
      i = end;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

struct CommandLine {
  Command command;
  std::vector<std::string> args;  // after the subcommand
};

// "NPROC_PER_NODE=2 megatron sft --lr 1" -> {sft, {"--lr", "1"}}; nullopt for other programs.
inline std::optional<CommandLine> command_line(const std::string& text) {
  auto words = shell_words(text);
  std::size_t i = 0;
  while (i < words.size() && words[i].find('=') != std::string::npos && !words[i].starts_with("-")) ++i;
  if (i + 1 >= words.size()) return std::nullopt;
  const std::string program = words[i], sub = words[i + 1];
  std::optional<Command> command;
  if (program == "megatron" && sub == "pt") command = Command::pt;
  if (program == "megatron" && sub == "sft") command = Command::sft;
  if (program == "swift" && sub == "export") command = Command::export_model;
  if (program == "swift" && sub == "infer") command = Command::infer;
  if (!command) return std::nullopt;
  return CommandLine{*command, std::vector<std::string>(words.begin() + static_cast<std::ptrdiff_t>(i + 2), words.end())};
}

}  // namespace megaswift::config::test
