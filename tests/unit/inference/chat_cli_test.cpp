// The interactive loop of `swift infer`, driven by scripted input: what the responder sees, what is recorded, and
// the commands (exit/quit, clear, multi-line, reset-system, single-round templates).
#include "host/inference/text/chat_cli.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

namespace mi = megaswift::inference;
using nlohmann::json;

namespace {

// Runs a script; the responder records each state it gets, prints "<answer N>" and returns "answer N".
struct Session {
  std::vector<mi::ChatState> seen;
  std::vector<json> announced;
  std::vector<json> records;
  std::string output;

  explicit Session(const std::string& script, mi::ChatCliOptions options = {}) {
    std::istringstream in(script);
    std::ostringstream out;
    const mi::Responder respond = [&](const mi::ChatState& state) {
      seen.push_back(state);
      const std::string answer = "answer " + std::to_string(seen.size());
      out << "<" << answer << ">";
      return answer;
    };
    records = mi::run_chat_cli(in, out, respond, options, [&](const json& r) { announced.push_back(r); });
    output = out.str();
  }
};

std::vector<std::pair<std::string, std::string>> turns(const mi::ChatState& s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& m : s.messages) out.emplace_back(m.role, m.content);
  return out;
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

using Turns = std::vector<std::pair<std::string, std::string>>;

}  // namespace

TEST_CASE("each query is answered with the whole conversation so far, and recorded") {
  Session s("hello\nhow are you\n");
  REQUIRE(s.seen.size() == 2);
  CHECK(turns(s.seen[0]) == Turns{{"user", "hello"}});
  CHECK(turns(s.seen[1]) == Turns{{"user", "hello"}, {"assistant", "answer 1"}, {"user", "how are you"}});
  CHECK_FALSE(s.seen[0].system.has_value());

  REQUIRE(s.records.size() == 2);
  CHECK(s.records[1] == json::parse(R"({"response": "answer 2", "messages": [
      {"role": "user", "content": "hello"}, {"role": "assistant", "content": "answer 1"},
      {"role": "user", "content": "how are you"}, {"role": "assistant", "content": "answer 2"}]})"));
  CHECK(s.announced == s.records);  // announced as each turn ends, same records

  // Help first, then a prompt per read (two queries and the read that met the end of input), each answer ended by
  // a line break and ms-swift's separator.
  CHECK(s.output.rfind("Type `exit` or `quit`", 0) == 0);
  CHECK(s.output.find("Type `clear` to clear the history.") != std::string::npos);
  CHECK(occurrences(s.output, "<<< ") == 3);
  CHECK(s.output.find("<<< <answer 1>\n" + std::string(50, '-') + "\n<<< <answer 2>\n") != std::string::npos);
}

TEST_CASE("clear forgets the history and empty input is ignored") {
  Session s("first\n  CLEAR \n\n   \nsecond\n");
  REQUIRE(s.seen.size() == 2);
  CHECK(turns(s.seen[1]) == Turns{{"user", "second"}});
}

TEST_CASE("exit and quit end the session in any case and with blanks, and so does the end of input") {
  CHECK(Session("one\n  Exit \ntwo\n").seen.size() == 1);
  CHECK(Session("one\nQUIT\ntwo\n").seen.size() == 1);
  CHECK(Session("exit\n").seen.empty());
  CHECK(Session("").seen.empty());
  // A last line without a line break is still a query; the end of input then ends the session.
  Session last("one\ntwo");
  REQUIRE(last.seen.size() == 2);
  CHECK(last.seen[1].messages.back().content == "two");
  // The query itself is sent as typed; only commands are compared trimmed and case-folded.
  CHECK(Session("  Exit now \n").seen.at(0).messages.at(0).content == "  Exit now ");
}

TEST_CASE("multi-line input runs until a line ending with #, which is dropped") {
  Session s("multi-line\nline one\nline two#\nfirst\n#\nsingle-line#\nback to one line\n");
  REQUIRE(s.seen.size() == 3);
  CHECK(s.seen[0].messages.back().content == "line one\nline two");
  CHECK(s.seen[1].messages.back().content == "first\n");  // a lone '#' line ends the query after a line break
  CHECK(s.seen[2].messages.back().content == "back to one line");
  // The prompt shows once per query (three multi-line reads: two queries and single-line#), not on continuations.
  CHECK(occurrences(s.output, "<<<[M] ") == 3);
  CHECK(s.output.find("End a multi-line query with `#`") != std::string::npos);

  // Commands are typed the same way in multi-line mode; an unfinished query at the end of input is dropped.
  CHECK(Session("multi-line\nexit#\nignored\n").seen.empty());
  CHECK(Session("multi-line\nno end\n").seen.empty());
}

TEST_CASE("reset-system sets the system prompt and clears the history, default-system restores the default") {
  Session s("hi\nreset-system\nBe brief.\nq2\nreset-system\ndefault-system\nq3\n");
  REQUIRE(s.seen.size() == 3);
  CHECK_FALSE(s.seen[0].system.has_value());
  CHECK(s.seen[1].system == "Be brief.");
  CHECK(turns(s.seen[1]) == Turns{{"user", "q2"}});
  CHECK_FALSE(s.seen[2].system.has_value());
  CHECK(turns(s.seen[2]) == Turns{{"user", "q3"}});
  CHECK(occurrences(s.output, "<<<[S] ") == 2);
  CHECK(s.records[1].at("messages").at(0) == json{{"role", "system"}, {"content", "Be brief."}});
  CHECK(s.records[2].at("messages").at(0).at("role") == "user");  // no system message once back to the default

  // With a session default (--system), default-system returns to it, and records carry it.
  Session d("reset-system\nOther.\nq1\nreset-system\ndefault-system\nq2\n", {.initial_system = "You are X."});
  REQUIRE(d.seen.size() == 2);
  CHECK(d.seen[0].system == "Other.");
  CHECK(d.seen[1].system == "You are X.");
  CHECK(d.records[1].at("messages").at(0) == json{{"role", "system"}, {"content", "You are X."}});

  // An empty line means "no system prompt", which differs from the template's default.
  Session e("reset-system\n\nq\n");
  REQUIRE(e.seen.size() == 1);
  CHECK(e.seen[0].system == "");

  // In multi-line mode the system prompt is typed over lines too, under <<<[MS].
  Session m("multi-line\nreset-system#\nline a\nline b#\nq#\n");
  REQUIRE(m.seen.size() == 1);
  CHECK(m.seen[0].system == "line a\nline b");
  CHECK(occurrences(m.output, "<<<[MS] ") == 1);
}

TEST_CASE("a single-round template starts every query from an empty history") {
  Session s("a\nb\n", {.multi_round = false, .initial_system = std::nullopt});
  REQUIRE(s.seen.size() == 2);
  CHECK(turns(s.seen[1]) == Turns{{"user", "b"}});
  CHECK(s.records[1].at("messages").size() == 2);
  CHECK(s.output.find("single round") != std::string::npos);
  CHECK(s.output.find("Type `clear`") == std::string::npos);
}

TEST_CASE("tool: sends a tool message") {
  Session s("call it\ntool:{\"result\": 4}\n");
  REQUIRE(s.seen.size() == 2);
  CHECK(s.seen[1].messages.back().role == "tool");
  CHECK(s.seen[1].messages.back().content == "{\"result\": 4}");
}

TEST_CASE("windows line ends in piped input are tolerated") {
  Session s("multi-line\r\nx\r\ny#\r\nexit#\r\nnever\r\n");
  REQUIRE(s.seen.size() == 1);
  CHECK(s.seen[0].messages.back().content == "x\ny");
}
