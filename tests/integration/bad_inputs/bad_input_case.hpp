// One bad input as a user meets it: the files it consists of (made by the test in a fresh directory), the command line
// of the real binary run in that directory, and what the user must see: the exit code, a part of the message, and the
// memory and time the command may take. Each case is its own doctest test case (so its own CTest test, named after
// the case) and a row of docs/errors.md.
//
//   BAD_INPUT("a dataset that is a FIFO is refused, not waited on") {
//     return {.input = "...", .wrong = "...", .files = {model(), fifo("d.jsonl")},
//             .args = {"megatron", "sft", "--model", "model", "--dataset", "d.jsonl"}, .exit_code = 1,
//             .message = "is a FIFO"};
//   }
#pragma once

#include "bounded_run.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

namespace megaswift::bad_inputs {

struct File {
  enum class Kind { text, copy, fifo, directory, symlink, filled, truncate, remove };
  Kind kind = Kind::text;
  std::string path;     // relative to the case's directory
  std::string content;  // text: the bytes; copy: a path under tests/fixtures; symlink: the target; filled: the head
  std::string tail;     // filled: the bytes after the fill
  std::size_t fill_bytes = 0;
  char fill = 'a';
};

File text(std::string path, std::string content);
File fixture(std::string path, std::string fixture_path);
File fifo(std::string path);
File directory(std::string path);
File symlink(std::string path, std::string target);
// head + fill_bytes copies of `fill` + tail, written in blocks (a 64 MiB line costs no more than its bytes).
File filled(std::string path, std::string head, std::size_t fill_bytes, std::string tail, char fill = 'a');
// For Case::after: cut an existing file to `bytes`, or remove a file or folder.
File truncated(std::string path, std::size_t bytes);
File removed(std::string path);

// The tiny Qwen2 fixture with the byte-level tokenizer in `dir`; `config` replaces its config.json when not empty.
std::vector<File> model(const std::string& dir = "model", const std::string& config = "");
// The fixture's config.json with `edit` applied: a JSON object merged in (JSON merge patch: null removes a key).
std::string model_config(const std::string& edit);

// `head` and the flags of a tiny megatron run of `iters` steps.
std::vector<std::string> train_args(std::vector<std::string> head, int iters = 1);

struct Case {
  std::string input;                 // the bad input, for the table
  std::string wrong;                 // what is wrong with it
  std::vector<File> files;
  std::vector<std::string> args;     // "megatron" or "swift", then its arguments
  int exit_code = 1;
  std::string message;               // must appear in the output
  Bounds bounds{};
  std::vector<std::string> env{};    // NAME=value added, NAME removed
  std::vector<std::string> absent{}; // must not appear in the output
  // Commands that make a healthy input first (e.g. train and save a checkpoint), each must exit 0; then `after`
  // damages it.
  std::vector<std::vector<std::string>> setup{};
  std::vector<File> after{};
};

using CaseFactory = Case (*)();
struct Registered {
  const char* name;
  CaseFactory make;
};
std::vector<Registered>& registry();
bool add(const char* name, CaseFactory make);

// Makes the files, runs the command and checks exit code, message and bounds (doctest CHECKs).
void run(const char* name, const Case& c);

// model() (with `config` as its config.json when not empty) and then `more`.
std::vector<File> with_model(std::vector<File> more, const std::string& config = "");

}  // namespace megaswift::bad_inputs

#define MSW_BAD_INPUT_CAT2(a, b) a##b
#define MSW_BAD_INPUT_CAT(a, b) MSW_BAD_INPUT_CAT2(a, b)
#define MSW_BAD_INPUT_IMPL(name_, id)                                                                              \
  static ::megaswift::bad_inputs::Case MSW_BAD_INPUT_CAT(bad_input_make_, id)();                                   \
  [[maybe_unused]] static const bool MSW_BAD_INPUT_CAT(bad_input_added_, id) =                                      \
      ::megaswift::bad_inputs::add(name_, &MSW_BAD_INPUT_CAT(bad_input_make_, id));                                 \
  TEST_CASE(name_) { ::megaswift::bad_inputs::run(name_, MSW_BAD_INPUT_CAT(bad_input_make_, id)()); }             \
  static ::megaswift::bad_inputs::Case MSW_BAD_INPUT_CAT(bad_input_make_, id)()
#define BAD_INPUT(name_) MSW_BAD_INPUT_IMPL(name_, __LINE__)
