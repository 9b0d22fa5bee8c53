// `swift infer` through the binary on the tiny Qwen2 model with the real Qwen tokenizer: chatting from a pipe
// with ms-swift's prompt and commands, streaming giving the same text as a whole answer, --val_dataset answered
// in batches into --result_path, a Megatron checkpoint as the model, and the errors a user meets (a prompt past
// --max_length, a model directory without tokenizer files, a checkpoint directory with no checkpoint, a GPU that is
// not there).
#include "training_fixture.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace megaswift::test;
using nlohmann::json;

namespace {

std::vector<json> read_jsonl(const fs::path& file) {
  std::vector<json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// `swift infer` with `input` on its standard input.
megaswift::testing::CommandResult infer_with_input(const std::string& input, const std::string& args) {
  const fs::path in = scratch() / "stdin.txt";
  std::ofstream(in) << input;
  return swift("infer --model " + quote(tiny_model()) + " " + args + " < " + quote(in));
}

}  // namespace

TEST_CASE("swift infer chats from a pipe: '<<< ' prompts, history, clear and exit, results recorded") {
  const fs::path results = scratch() / "chat.jsonl";
  fs::remove(results);
  auto r = infer_with_input("who are you?\nand then?\nclear\nhello\nexit\nnot read\n",
                            "--max_new_tokens 6 --temperature 0 --result_path " + quote(results));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("<<< ") != std::string::npos);
  const auto records = read_jsonl(results);
  REQUIRE(records.size() == 3);
  // The second turn carries the first in its history; after 'clear' the history starts over.
  CHECK(records[1]["messages"].size() > records[0]["messages"].size());
  CHECK(records[2]["messages"].size() == records[0]["messages"].size());
  CHECK(records[0]["messages"][0]["content"] == "who are you?");
  CHECK(records[0]["response"].is_string());
}

TEST_CASE("swift infer: streaming prints the same answer as a whole one") {
  const fs::path a = scratch() / "stream.jsonl", b = scratch() / "whole.jsonl";
  fs::remove(a);
  fs::remove(b);
  auto s = infer_with_input("who are you?\n", "--max_new_tokens 24 --stream true --result_path " + quote(a));
  auto w = infer_with_input("who are you?\n", "--max_new_tokens 24 --stream false --result_path " + quote(b));
  INFO(s.output << w.output);
  REQUIRE(s.status == 0);
  REQUIRE(w.status == 0);
  const auto ra = read_jsonl(a), rb = read_jsonl(b);
  REQUIRE(ra.size() == 1);
  REQUIRE(rb.size() == 1);
  CHECK(ra[0]["response"] == rb[0]["response"]);
  CHECK(s.output.find(ra[0]["response"].get<std::string>()) != std::string::npos);
}

TEST_CASE("swift infer --val_dataset answers every row in batches into --result_path") {
  const fs::path data = scratch() / "questions.jsonl", results = scratch() / "answers.jsonl";
  fs::remove(results);
  {
    std::ofstream out(data);
    for (const char* q : {"who are you?", "what is 2+2?", "name a colour", "count to three"})
      out << json{{"messages", {{{"role", "user"}, {"content", q}}, {{"role", "assistant"}, {"content", "label"}}}}}.dump()
          << "\n";
    out << json{{"messages", {{{"role", "user"}, {"content", "say hi"}}}}}.dump() << "\n";  // a question alone
  }
  auto batched = swift("infer --model " + quote(tiny_model()) + " --val_dataset " + quote(data) +
                       " --max_batch_size 2 --max_new_tokens 10 --result_path " + quote(results));
  INFO(batched.output);
  REQUIRE(batched.status == 0);
  const auto rows = read_jsonl(results);
  REQUIRE(rows.size() == 5);
  for (const auto& row : rows) CHECK(row["response"].is_string());
  for (size_t i = 0; i < 4; ++i) CHECK(rows[i]["labels"] == "label");
  CHECK_FALSE(rows[4].contains("labels"));
  // Decoded together or one at a time, greedy answers are the same.
  const fs::path single = scratch() / "answers-1.jsonl";
  fs::remove(single);
  auto one = swift("infer --model " + quote(tiny_model()) + " --infer_dataset " + quote(data) +
                   " --max_batch_size 1 --max_new_tokens 10 --result_path " + quote(single));
  REQUIRE(one.status == 0);
  const auto rows1 = read_jsonl(single);
  REQUIRE(rows1.size() == 5);
  for (size_t i = 0; i < rows.size(); ++i) CHECK(rows[i]["response"] == rows1[i]["response"]);
  CHECK(batched.output.find("tokens/s") != std::string::npos);
}

TEST_CASE("swift infer answers from a Megatron checkpoint as from the HF directory it came from") {
  const fs::path mcore = scratch() / "tiny-mcore";
  fs::remove_all(mcore);
  auto e = swift("export --model " + quote(tiny_model()) + " --to_mcore true --output_dir " + quote(mcore));
  INFO(e.output);
  REQUIRE(e.status == 0);
  const fs::path a = scratch() / "from-mcore.jsonl", b = scratch() / "from-hf.jsonl";
  fs::remove(a);
  fs::remove(b);
  const fs::path in = scratch() / "q.txt";
  std::ofstream(in) << "who are you?\n";
  auto m = swift("infer --mcore_model " + quote(mcore) + " --max_new_tokens 12 --result_path " + quote(a) + " < " + quote(in));
  auto h = swift("infer --model " + quote(tiny_model()) + " --max_new_tokens 12 --result_path " + quote(b) + " < " + quote(in));
  INFO(m.output);
  REQUIRE(m.status == 0);
  REQUIRE(h.status == 0);
  CHECK(read_jsonl(a).at(0)["response"] == read_jsonl(b).at(0)["response"]);
}

TEST_CASE("swift infer errors name the problem: a prompt past --max_length, no tokenizer files, no checkpoint") {
  auto long_prompt = infer_with_input("who are you? tell me everything about yourself\n", "--max_length 8");
  CHECK(long_prompt.status != 0);
  CHECK(long_prompt.output.find("more than --max_length 8") != std::string::npos);

  const fs::path bare = scratch() / "no-tokenizer";
  fs::remove_all(bare);
  fs::create_directories(bare);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(tiny_model() / f, bare / f);
  auto no_tok = swift("infer --model " + quote(bare) + " < /dev/null");
  INFO(no_tok.output);
  CHECK(no_tok.status != 0);
  CHECK(no_tok.output.find(bare.filename().string()) != std::string::npos);
  CHECK(no_tok.output.find("tokenizer") != std::string::npos);

  auto no_gpu = infer_with_input("hi\n", "--device cuda:99");
  CHECK(no_gpu.status != 0);
  CHECK(no_gpu.output.find("--device cuda:99") != std::string::npos);
  CHECK(no_gpu.output.find("GPU(s) visible") != std::string::npos);

  const fs::path empty = scratch() / "empty-ckpt";
  fs::create_directories(empty);
  auto no_ckpt = swift("infer --mcore_model " + quote(empty) + " < /dev/null");
  INFO(no_ckpt.output);
  CHECK(no_ckpt.status != 0);
  CHECK(no_ckpt.output.find("empty-ckpt") != std::string::npos);
  CHECK(no_ckpt.output.find("latest_checkpointed_iteration.txt") != std::string::npos);
}
