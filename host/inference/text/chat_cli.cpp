#include "host/inference/text/chat_cli.hpp"

#include <algorithm>
#include <cctype>
#include <istream>
#include <ostream>

namespace megaswift::inference {
namespace {

const std::string kSeparator(50, '-');  // ms-swift ends every answer with this line

std::string trim(const std::string& s) {
  const auto blank = [](unsigned char c) { return std::isspace(c) != 0; };
  auto begin = std::find_if_not(s.begin(), s.end(), blank);
  auto end = std::find_if_not(s.rbegin(), s.rend(), blank).base();
  return begin < end ? std::string(begin, end) : std::string();
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// One line without its terminator; a '\r' left by a file with Windows line ends is dropped too, so `exit` and the
// multi-line `#` are recognised in such a file.
bool read_line(std::istream& in, std::string& line) {
  if (!std::getline(in, line)) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

// Multi-line input: the prompt shows once, then lines are collected until one ends with '#'. nullopt at the end of
// input (an unfinished query is dropped rather than answered half-typed).
std::optional<std::string> read_multiline(std::istream& in, std::ostream& out, const std::string& prompt) {
  out << prompt << std::flush;
  std::string query, line;
  while (read_line(in, line)) {
    if (!line.empty() && line.back() == '#') {
      line.pop_back();
      return query + line;
    }
    query += line + '\n';
  }
  return std::nullopt;
}

std::optional<std::string> read_input(std::istream& in, std::ostream& out, bool multiline, bool input_system) {
  if (multiline) return read_multiline(in, out, input_system ? "<<<[MS] " : "<<<[M] ");
  out << (input_system ? "<<<[S] " : "<<< ") << std::flush;
  std::string line;
  if (!read_line(in, line)) return std::nullopt;
  return line;
}

void print_help(std::ostream& out, bool multi_round) {
  out << "Type `exit` or `quit` to end the conversation.\n"
         "Type `multi-line` to enter queries over several lines.\n"
         "Type `reset-system` to set a new system prompt (this also clears the history).\n";
  out << (multi_round ? "Type `clear` to clear the history.\n"
                      : "This template holds a single round: every query starts a new conversation.\n");
  out << std::flush;
}

nlohmann::json turn_record(const ChatState& state, const std::string& response) {
  nlohmann::json messages = nlohmann::json::array();
  if (state.system) messages.push_back({{"role", "system"}, {"content", *state.system}});
  for (const auto& m : state.messages) messages.push_back({{"role", m.role}, {"content", m.content}});
  messages.push_back({{"role", "assistant"}, {"content", response}});
  return {{"response", response}, {"messages", std::move(messages)}};
}

}  // namespace

std::vector<nlohmann::json> run_chat_cli(std::istream& in, std::ostream& out, const Responder& respond,
                                         const ChatCliOptions& options,
                                         const std::function<void(const nlohmann::json&)>& on_result) {
  ChatState state{options.initial_system, {}};
  bool multiline = false;
  bool input_system = false;  // the next input is the new system prompt
  std::vector<nlohmann::json> records;
  print_help(out, options.multi_round);

  while (true) {
    if (!options.multi_round) state.messages.clear();
    const std::optional<std::string> text = read_input(in, out, multiline, input_system);
    if (!text) {
      out << '\n' << std::flush;  // the prompt is still on the line: end it so the shell's prompt starts clean
      break;
    }
    const std::string command = lowercase(trim(*text));
    if (command == "exit" || command == "quit") break;  // checked first: it works while a system is awaited too
    if (input_system) {
      // The text is taken as typed (blanks and all; an empty line means "no system prompt"), except the keyword.
      state.system = trim(*text) == "default-system" ? options.initial_system : std::optional<std::string>(*text);
      input_system = false;
      state.messages.clear();
      continue;
    }
    if (command.empty()) continue;
    if (command == "clear") {
      state.messages.clear();
      continue;
    }
    if (command == "reset-system") {
      input_system = true;
      continue;
    }
    if (command == "multi-line") {
      multiline = true;
      out << "End a multi-line query with `#`. Type `single-line` to go back to one line per query.\n"
          << std::flush;
      continue;
    }
    if (command == "single-line") {
      multiline = false;
      continue;
    }

    static const std::string kToolPrefix = "tool:";
    if (text->rfind(kToolPrefix, 0) == 0)
      state.messages.push_back({"tool", text->substr(kToolPrefix.size())});
    else
      state.messages.push_back({"user", *text});
    std::string response = respond(state);
    out << '\n' << kSeparator << '\n' << std::flush;
    nlohmann::json record = turn_record(state, response);
    state.messages.push_back({"assistant", std::move(response)});
    if (on_result) on_result(record);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace megaswift::inference
