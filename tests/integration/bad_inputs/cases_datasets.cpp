// Dataset files: special files, suffixes, broken syntax, and the sizes that used to cost memory or time without bound
// (one huge field, one huge line, one row of many turns).
#include "bad_input_case.hpp"

#include <string>

namespace {

using namespace megaswift::bad_inputs;

const std::string kRow =
    R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})";

std::vector<std::string> sft(const std::string& dataset, std::vector<std::string> extra = {}) {
  // The byte-level fixture tokenizer has no chat tokens: the default template needs none.
  std::vector<std::string> args = train_args({"megatron", "sft", "--model", "model", "--dataset", dataset, "--save",
                                              "out", "--no_save_optim", "true", "--no_save_rng", "true", "--template",
                                              "default"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}
std::vector<std::string> pt(const std::string& dataset, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = train_args({"megatron", "pt", "--model", "model", "--dataset", dataset, "--save",
                                              "out", "--no_save_optim", "true", "--no_save_rng", "true"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// A conversation of `turns` user/assistant pairs in one row.
std::string many_turns(int turns) {
  std::string row = R"({"messages": [)";
  for (int i = 0; i < turns; ++i)
    row += std::string(i ? "," : "") + R"({"role": "user", "content": "q"}, {"role": "assistant", "content": "a"})";
  return row + "]}\n";
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

}  // namespace

BAD_INPUT("dataset: a missing file is named") {
  return {.input = "`--dataset missing.jsonl`", .wrong = "no such file", .files = model(), .args = sft("missing.jsonl"),
          .message = "missing.jsonl"};
}
BAD_INPUT("dataset: a FIFO is refused instead of blocking") {
  return {.input = "`--dataset fifo.jsonl` (mkfifo)", .wrong = "a FIFO blocks forever", .files = with_model({fifo("fifo.jsonl")}),
          .args = sft("fifo.jsonl"), .message = "is a FIFO (named pipe), not a regular file"};
}
BAD_INPUT("dataset: /dev/zero behind a symlink is refused instead of read forever") {
  return {.input = "`--dataset zero.jsonl` -> /dev/zero", .wrong = "a device never ends",
          .files = with_model({symlink("zero.jsonl", "/dev/zero")}), .args = sft("zero.jsonl"),
          .message = "is a character device, not a regular file"};
}
BAD_INPUT("dataset: /dev/urandom behind a symlink is refused") {
  return {.input = "`--dataset rand.txt` -> /dev/urandom", .wrong = "a device never ends",
          .files = with_model({symlink("rand.txt", "/dev/urandom")}), .args = pt("rand.txt"),
          .message = "is a character device, not a regular file"};
}
BAD_INPUT("dataset: a folder named rows.csv is refused") {
  return {.input = "`--dataset rows.csv` (a folder)", .wrong = "a directory",
          .files = with_model({directory("rows.csv/x")}), .args = sft("rows.csv"), .message = "dataset 'rows.csv': the folder rows.csv has no {jsonl,json,csv,txt} data files"};
}
BAD_INPUT("dataset: a symlink loop is named") {
  return {.input = "`--dataset loop.jsonl` (a link to itself)", .wrong = "a symlink loop",
          .files = with_model({symlink("loop.jsonl", "loop.jsonl")}), .args = sft("loop.jsonl"),
          .message = "loop.jsonl is a symbolic link that cannot be followed (Too many levels of symbolic links)"};
}
BAD_INPUT("dataset: a dangling symlink is named as a link") {
  return {.input = "`--dataset gone.jsonl` -> a removed file", .wrong = "dangling symlink",
          .files = with_model({symlink("gone.jsonl", "removed.jsonl")}), .args = sft("gone.jsonl"),
          .message = "gone.jsonl is a symbolic link that cannot be followed (No such file or directory)"};
}
BAD_INPUT("dataset: #-1 is not a row count") {
  return {.input = "`d.jsonl#-1`", .wrong = "negative count", .files = with_model({text("d.jsonl", kRow + "\n")}),
          .args = sft("d.jsonl#-1"), .message = "dataset 'd.jsonl#-1': '#-1' is not a row count: write '#N' with N a whole number of rows, at least 1 (e.g."};
}
BAD_INPUT("dataset: #abc is not a row count") {
  return {.input = "`d.jsonl#abc`", .wrong = "not a number", .files = with_model({text("d.jsonl", kRow + "\n")}),
          .args = sft("d.jsonl#abc"), .message = "dataset 'd.jsonl#abc': '#abc' is not a row count: write '#N' with N a whole number of rows, at least 1 (e.g."};
}
BAD_INPUT("dataset: a bare # is not followed by a count") {
  return {.input = "`d.jsonl#`", .wrong = "empty count", .files = with_model({text("d.jsonl", kRow + "\n")}),
          .args = sft("d.jsonl#"), .message = "is not followed by a row count"};
}
BAD_INPUT("dataset: #1.5 is not a row count") {
  return {.input = "`d.jsonl#1.5`", .wrong = "a fraction", .files = with_model({text("d.jsonl", kRow + "\n")}),
          .args = sft("d.jsonl#1.5"), .message = "dataset 'd.jsonl#1.5': '#1.5' is not a row count: write '#N' with N a whole number of rows, at least 1 (e.g."};
}
BAD_INPUT("dataset: #0 is not a row count") {
  return {.input = "`d.jsonl#0`", .wrong = "zero rows", .files = with_model({text("d.jsonl", kRow + "\n")}),
          .args = sft("d.jsonl#0"), .message = "dataset 'd.jsonl#0': '#0' asks for no rows; leave out '#N' to use every row"};
}
BAD_INPUT("dataset: #100000000000 is refused before allocating") {
  return {.input = "`d.jsonl#100000000000`", .wrong = "10^11 copies of one row",
          .files = with_model({text("d.jsonl", kRow + "\n")}), .args = sft("d.jsonl#100000000000"),
          .message = "more than 1000 copies of each"};
}
BAD_INPUT("dataset: an empty file says it has no rows") {
  return {.input = "an empty `d.jsonl`", .wrong = "no rows", .files = with_model({text("d.jsonl", "")}),
          .args = sft("d.jsonl"), .message = "d.jsonl"};
}
BAD_INPUT("dataset: a broken JSON line is named by line and column") {
  return {.input = "line 2 of `d.jsonl` is `{\"messages\": [`", .wrong = "invalid JSON",
          .files = with_model({text("d.jsonl", kRow + "\n{\"messages\": [\n")}), .args = sft("d.jsonl"),
          .message = "d.jsonl line 2, column 15: invalid JSON: syntax error while parsing value - unexpected end of input; expected"};
}
BAD_INPUT("dataset: invalid UTF-8 in a text corpus is named by line") {
  return {.input = "line 2 of `c.txt` holds byte 0xff", .wrong = "not UTF-8",
          .files = with_model({text("c.txt", "hello\nbad \xff byte\n")}), .args = pt("c.txt"),
          .message = "c.txt line 2: invalid UTF-8 (re-encode the file as UTF-8)"};
}
BAD_INPUT("dataset: invalid UTF-8 inside a JSON string is named") {
  return {.input = "a JSON line whose content holds byte 0xfe", .wrong = "not UTF-8",
          .files = with_model({text("d.jsonl", R"({"messages": [{"role": "user", "content": "a)" "\xfe" R"("}]})" "\n")}),
          .args = sft("d.jsonl"), .message = "d.jsonl line 1, column 45: invalid JSON: syntax error while parsing value - invalid string: ill-formed UTF-8"};
}
BAD_INPUT("dataset: an unsupported suffix lists the supported ones") {
  return {.input = "`--dataset d.parquet`", .wrong = "unsupported format", .files = with_model({text("d.parquet", "PAR1")}),
          .args = sft("d.parquet"), .message = "use .jsonl, .json, .csv or .txt"};
}
BAD_INPUT("dataset: a CSV with an unclosed quote is named") {
  return {.input = "a CSV whose second row opens a quote it never closes", .wrong = "broken CSV",
          .files = with_model({text("d.csv", "query,response\n\"hi,yo\n")}), .args = sft("d.csv"), .message = "d.csv line 2: a quoted field opened here is never closed (a quote inside a quoted field is written \"\")"};
}
BAD_INPUT("dataset: CSV rows of the wrong width leave no usable rows and say why") {
  return {.input = "a CSV whose rows have 3 fields under a 2-field header", .wrong = "field count mismatch",
          .files = with_model({text("d.csv", "query,response\na,b,c\nd,e,f\n")}), .args = sft("d.csv"),
          .message = "CSV field count differs from the header"};
}
BAD_INPUT("dataset: a text corpus of blank lines has no rows") {
  return {.input = "`c.txt` of blank lines", .wrong = "no rows", .files = with_model({text("c.txt", "\n \n\t\n")}),
          .args = pt("c.txt"), .message = "c.txt"};
}
BAD_INPUT("dataset: a JSON document that is a number is refused") {
  return {.input = "`d.json` holding `42`", .wrong = "not rows", .files = with_model({text("d.json", "42\n")}),
          .args = sft("d.json"), .message = "d.json"};
}
BAD_INPUT("dataset: a columnar JSON document with unequal columns is refused") {
  return {.input = "`{\"query\": [\"a\", \"b\"], \"response\": [\"c\"]}`", .wrong = "columns of different lengths",
          .files = with_model({text("d.json", R"({"query": ["a", "b"], "response": ["c"]})")}), .args = sft("d.json"),
          .message = "d.json"};
}
BAD_INPUT("dataset: JSON nested 100000 deep is refused without a stack overflow") {
  return {.input = "a line of 100000 `[`", .wrong = "absurd nesting",
          .files = with_model({filled("d.jsonl", "", 100000, "\n", '[')}), .args = sft("d.jsonl"),
          .message = "d.jsonl line 2, column 1: invalid JSON"};
}
BAD_INPUT("dataset: JSON nested 100000 deep but well formed is dropped as a bad row") {
  return {.input = "a row whose content is 100000 nested lists", .wrong = "absurd nesting",
          .files = with_model({text("d.jsonl", R"({"messages": [{"role": "user", "content": )" +
                                                   std::string(100000, '[') + std::string(100000, ']') + "}]}\n")}),
          .args = sft("d.jsonl"), .message = "messages[0].content is a list, expected a string"};
}
BAD_INPUT("dataset: messages that are not a list leave no usable rows and say why") {
  return {.input = "`{\"messages\": \"hi\"}`", .wrong = "wrong type",
          .files = with_model({text("d.jsonl", R"({"messages": "hi"})" "\n")}), .args = sft("d.jsonl"),
          .message = "wrong type"};
}
BAD_INPUT("dataset: an unknown role leaves no usable rows and says why") {
  return {.input = "a message with role `robot`", .wrong = "unknown role",
          .files = with_model({text("d.jsonl", R"({"messages": [{"role": "robot", "content": "x"}, {"role": "assistant", "content": "y"}]})" "\n")}),
          .args = sft("d.jsonl"), .message = "unknown role"};
}
BAD_INPUT("dataset: sft rows that end with the user leave no usable rows and say why") {
  return {.input = "every row ends with a user message", .wrong = "no answer to train on",
          .files = with_model({text("d.jsonl", R"({"messages": [{"role": "user", "content": "x"}]})" "\n")}),
          .args = sft("d.jsonl"), .message = "does not end with an assistant turn"};
}
BAD_INPUT("dataset: a --columns rename onto an existing key says which") {
  return {.input = "`--columns '{\"q\": \"query\"}'` on rows that have both q and query", .wrong = "column collision",
          .files = with_model({text("d.jsonl", R"({"q": "a", "query": "b", "response": "c"})" "\n")}),
          .args = sft("d.jsonl", {"--columns", R"({"q": "query"})"}), .message = "--columns rename collides"};
}
BAD_INPUT("dataset: a NUL byte inside a line is refused as JSON") {
  return {.input = "a JSON line holding a raw NUL byte", .wrong = "control byte in JSON",
          .files = with_model({text("d.jsonl", std::string("{\"text\": \"a\0b\"}\n", 17))}), .args = pt("d.jsonl"),
          .message = "d.jsonl line 1, column 12: invalid JSON: syntax error while parsing value - invalid string: control character"};
}
BAD_INPUT("dataset: a missing --val_dataset is named") {
  return {.input = "`--val_dataset nope.jsonl`", .wrong = "no such file",
          .files = with_model({text("d.jsonl", kRow + "\n")}),
          .args = {"megatron", "sft", "--model", "model", "--dataset", "d.jsonl", "--val_dataset", "nope.jsonl",
                   "--train_iters", "1", "--global_batch_size", "1", "--micro_batch_size", "1"},
          .message = "nope.jsonl"};
}
BAD_INPUT("dataset: a hub id that is not a local file says Megaswift does not download") {
  return {.input = "`--dataset AI-ModelScope/nothing-here`", .wrong = "not local", .files = model(),
          .args = sft("AI-ModelScope/nothing-here"), .message = "AI-ModelScope/nothing-here"};
}
BAD_INPUT("size: a 65 MiB JSON line is dropped unparsed and counted") {
  return {.input = "a JSON line of 65 MiB beside one good row", .wrong = "a row over the 64 MiB row limit",
          .files = with_model({filled("d.jsonl", kRow + "\n" + R"({"text": ")", 65 * kMiB, "\"}\n")}),
          .args = pt("d.jsonl"), .exit_code = 0, .message = "row larger than 64 MiB", .bounds = {400, 30}};
}
BAD_INPUT("size: a 65 MiB text-corpus line is dropped unparsed and counted") {
  return {.input = "a `.txt` line of 65 MiB beside one good line", .wrong = "a row over the 64 MiB row limit",
          .files = with_model({filled("c.txt", "hello world\n", 65 * kMiB, "\n")}), .args = pt("c.txt"),
          .exit_code = 0, .message = "row larger than 64 MiB", .bounds = {400, 30}};
}
BAD_INPUT("size: a 50 MB field with truncation delete is dropped without tokenizing it") {
  return {.input = "one 50 MB answer, `--max_length 64` (delete)", .wrong = "a field no sample can hold",
          .files = with_model({filled("d.jsonl", kRow + "\n" + R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ")",
                                      50000000, "\"}]}\n")}),
          .args = sft("d.jsonl", {"--max_length", "64"}), .exit_code = 0, .message = "1 too long",
          .bounds = {700, 30}};
}
BAD_INPUT("size: a 50 MB field with truncation right tokenizes only its head") {
  return {.input = "one 50 MB answer, `--max_length 64 --truncation_strategy right`",
          .wrong = "a field far past the limit",
          .files = with_model({filled("d.jsonl", R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": ")",
                                      50000000, "\"}]}\n")}),
          .args = sft("d.jsonl", {"--max_length", "64", "--truncation_strategy", "right"}), .exit_code = 0,
          .message = "1 truncated", .bounds = {700, 30}};
}
BAD_INPUT("size: a 50 MB field with truncation left tokenizes only its tail") {
  return {.input = "one 50 MB question, `--max_length 64 --truncation_strategy left`",
          .wrong = "a field far past the limit",
          .files = with_model({filled("d.jsonl", R"({"messages": [{"role": "user", "content": ")", 50000000,
                                      R"("}, {"role": "assistant", "content": "a"}]})" "\n")}),
          .args = sft("d.jsonl", {"--max_length", "64", "--truncation_strategy", "left"}), .exit_code = 0,
          .message = "1 truncated", .bounds = {700, 30}};
}
BAD_INPUT("size: a pre-training text of 50 MB with delete is dropped without tokenizing it") {
  return {.input = "a `.txt` line of 50 MB, `--max_length 64`", .wrong = "a line no sample can hold",
          .files = with_model({filled("c.txt", "hello world\n", 50000000, "\n", 'x')}),
          .args = pt("c.txt", {"--max_length", "64"}), .exit_code = 0, .message = "1 too long",
          .bounds = {700, 30}};
}
BAD_INPUT("size: a row of 100000 turns is refused as malformed with the limit") {
  return {.input = "one row of 100000 user/assistant pairs", .wrong = "more turns than any context",
          .files = with_model({text("d.jsonl", many_turns(50000) + kRow + "\n")}),
          .args = sft("d.jsonl", {"--max_length", "64"}), .exit_code = 0,
          .message = "more than the 65536 one row may have", .bounds = {600, 30}};
}
BAD_INPUT("size: a row of 30000 turns renders in linear time") {
  return {.input = "one row of 30000 pairs (60000 messages), `--max_length 64`", .wrong = "used to take quadratic time",
          .files = with_model({text("d.jsonl", many_turns(30000) + kRow + "\n")}),
          .args = sft("d.jsonl", {"--max_length", "64"}), .exit_code = 0, .message = "1 too long",
          .bounds = {600, 30}};
}
