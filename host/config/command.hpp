// The four user-facing commands that take options, and small sets of them.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::config {

enum class Command : std::uint8_t { pt = 0, sft = 1, export_model = 2, infer = 3 };

inline constexpr std::array<Command, 4> kAllCommands{Command::pt, Command::sft, Command::export_model,
                                                     Command::infer};

// "megatron sft", "swift export": how the user types the command.
std::string_view command_name(Command command);
// "sft", "export": the subcommand word alone.
std::string_view command_key(Command command);
// One line saying what the command does, for help.
std::string_view command_summary(Command command);

// A set of commands as a bitmask; options record which commands accept them.
class CommandSet {
 public:
  constexpr CommandSet() = default;
  constexpr CommandSet(std::initializer_list<Command> commands) {
    for (Command c : commands) bits_ |= bit(c);
  }
  static constexpr CommandSet all() { return {Command::pt, Command::sft, Command::export_model, Command::infer}; }

  constexpr void add(Command c) { bits_ |= bit(c); }
  constexpr bool contains(Command c) const { return (bits_ & bit(c)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr bool intersects(CommandSet other) const { return (bits_ & other.bits_) != 0; }
  constexpr bool operator==(const CommandSet&) const = default;

  std::vector<Command> list() const;
  // "megatron pt, megatron sft"
  std::string names() const;
  // "pt, sft"
  std::string keys() const;

 private:
  static constexpr std::uint8_t bit(Command c) { return static_cast<std::uint8_t>(1u << static_cast<unsigned>(c)); }
  std::uint8_t bits_ = 0;
};

inline constexpr CommandSet kTraining{Command::pt, Command::sft};

}  // namespace megaswift::config
