// The interactive loop of `swift infer` (no --val_dataset): reads queries, keeps the conversation, hands each turn
// to a responder and records it, with ms-swift's commands and prompts, so a user's muscle memory and scripts piped
// into it work unchanged:
//   exit | quit      end the session (case-insensitive, surrounding blanks ignored; also in the other modes)
//   clear            forget the history
//   multi-line       prompt `<<<[M] `; a query runs over lines until one ends with `#` (dropped); the lines are
//                    joined with '\n'. `single-line` switches back.
//   reset-system     prompt `<<<[S] ` (`<<<[MS] ` in multi-line mode): the next input becomes the system prompt
//                    and the history is cleared; `default-system` goes back to the session's default.
//   (empty input)    ignored
//   tool:<text>      sent as a message with role "tool" and content <text> (ms-swift's way to type a tool result)
// End of input ends the loop as `exit` does, so `swift infer < questions.txt` works.
#pragma once

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace megaswift::inference {

struct ChatMessage {
  std::string role;  // "user", "assistant" or "tool"
  std::string content;
};

struct ChatState {
  // nullopt: the template's default system prompt; "" (set through reset-system): no system prompt at all.
  std::optional<std::string> system;
  std::vector<ChatMessage> messages;  // without the system message
};

// Gets the conversation ending in the new user (or tool) message. It prints the answer itself as it is generated
// (streaming), without a final line break, and returns the whole answer; the loop then ends the line and prints
// ms-swift's separator line of 50 '-'.
using Responder = std::function<std::string(const ChatState&)>;

struct ChatCliOptions {
  // False for templates that cannot hold several rounds: the history is cleared before every query.
  bool multi_round = true;
  // The session's default system prompt (--system), what `default-system` returns to; nullopt: the template's.
  std::optional<std::string> initial_system;
};

// Runs the loop until exit/quit or the end of `in`. Prompts and help go to `out`, flushed before each read. Returns
// one record per answered turn, as ms-swift appends to --result_path:
//   {"response": answer, "messages": [system (when set), history..., query, {"role": "assistant", answer}]}
// and passes each one to on_result (when given) as soon as the turn ends, so a result file survives a crash.
std::vector<nlohmann::json> run_chat_cli(std::istream& in, std::ostream& out, const Responder& respond,
                                         const ChatCliOptions& options,
                                         const std::function<void(const nlohmann::json&)>& on_result = {});

}  // namespace megaswift::inference
