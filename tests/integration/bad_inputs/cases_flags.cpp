// Flag values and environment variables: each refused before any work, naming the flag and what it accepts.
#include "bad_input_case.hpp"

namespace {

using namespace megaswift::bad_inputs;

constexpr int kUsage = 2;

// megatron sft on the tiny model with one good row, then `extra`.
std::vector<std::string> sft(std::vector<std::string> extra) {
  std::vector<std::string> args =
      train_args({"megatron", "sft", "--model", "model", "--dataset", "d.jsonl", "--save", "out", "--template", "default"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}
const char* kRow = R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})";
std::vector<File> data() { return with_model({text("d.jsonl", std::string(kRow) + "\n")}); }

}  // namespace

BAD_INPUT("flag: --lr abc is not a number") {
  return {.input = "`--lr abc`", .wrong = "not a number", .files = data(), .args = sft({"--lr", "abc"}),
          .exit_code = kUsage, .message = "--lr: 'abc' is not a number >= 0.0"};
}
BAD_INPUT("flag: --micro_batch_size 0 is below its minimum") {
  return {.input = "`--micro_batch_size 0`", .wrong = "below 1", .files = data(),
          .args = sft({"--micro_batch_size", "0"}), .exit_code = kUsage, .message = "--micro_batch_size: '0' is out of range; it accepts an integer >= 1"};
}
BAD_INPUT("flag: --micro_batch_size -1 is below its minimum") {
  return {.input = "`--micro_batch_size -1`", .wrong = "negative", .files = data(),
          .args = sft({"--micro_batch_size", "-1"}), .exit_code = kUsage, .message = "--micro_batch_size: '-1' is out of range; it accepts an integer >= 1"};
}
BAD_INPUT("flag: --global_batch_size past 2^63 does not wrap") {
  return {.input = "`--global_batch_size 9223372036854775808`", .wrong = "past int64", .files = data(),
          .args = sft({"--global_batch_size", "9223372036854775808"}), .exit_code = kUsage,
          .message = "--global_batch_size: '9223372036854775808' is not an integer >= 1"};
}
BAD_INPUT("flag: --global_batch_size near 2^63 gets a suggestion that does not overflow") {
  return {.input = "`--global_batch_size 9223372036854775807 --micro_batch_size 2`",
          .wrong = "not a multiple; the next multiple overflows", .files = data(),
          .args = {"megatron", "sft", "--model", "model", "--dataset", "d.jsonl", "--train_iters", "1",
                   "--global_batch_size", "9223372036854775807", "--micro_batch_size", "2"},
          .exit_code = kUsage,
          .message = "use e.g. --global_batch_size 9223372036854775806"};
}
BAD_INPUT("flag: --max_length 0 is refused") {
  return {.input = "`--max_length 0`", .wrong = "no room for a token", .files = data(),
          .args = sft({"--max_length", "0"}), .exit_code = kUsage, .message = "--max_length: '0' is out of range; it accepts an integer >= 1"};
}
BAD_INPUT("flag: --max_length -5 is refused") {
  return {.input = "`--max_length -5`", .wrong = "negative", .files = data(), .args = sft({"--max_length", "-5"}),
          .exit_code = kUsage, .message = "--max_length: '-5' is out of range; it accepts an integer >= 1"};
}
BAD_INPUT("flag: --max_length of 20 digits is refused") {
  return {.input = "`--max_length 99999999999999999999`", .wrong = "past int64", .files = data(),
          .args = sft({"--max_length", "99999999999999999999"}), .exit_code = kUsage, .message = "--max_length: '99999999999999999999' is not an integer >= 1"};
}
BAD_INPUT("flag: --truncation_strategy middle lists the accepted values") {
  return {.input = "`--truncation_strategy middle`", .wrong = "unknown choice", .files = data(),
          .args = sft({"--truncation_strategy", "middle"}), .exit_code = kUsage, .message = "--truncation_strategy: 'middle' is not one of delete, left, right"};
}
BAD_INPUT("flag: a --dataset path with a non-UTF-8 byte names the flag") {
  return {.input = "`--dataset` a path with byte 0xff", .wrong = "not UTF-8 (args.json holds UTF-8)",
          .files = with_model({text("d\xff.jsonl", std::string(kRow) + "\n")}),
          .args = train_args({"megatron", "sft", "--model", "model", "--dataset", "d\xff.jsonl"}), .exit_code = kUsage,
          .message = "--dataset 'd\\xff.jsonl': byte 1 is not valid UTF-8"};
}
BAD_INPUT("flag: a --model path with a non-UTF-8 byte names the flag") {
  return {.input = "`--model` a directory named with byte 0xfe", .wrong = "not UTF-8", .files = model("m\xfe"),
          .args = train_args({"megatron", "sft", "--model", "m\xfe", "--dataset", "d.jsonl"}), .exit_code = kUsage,
          .message = "--model 'm\\xfe': byte 1 is not valid UTF-8"};
}
BAD_INPUT("flag: a --save path with a truncated UTF-8 sequence names the flag") {
  return {.input = "`--save out\\xc3`", .wrong = "a UTF-8 sequence cut short", .files = data(),
          .args = sft({"--save", "out\xc3"}), .exit_code = kUsage, .message = "--save 'out\\xc3': byte 3 is not valid UTF-8; Megaswift records its arguments as UTF-8 JSON, so rename the"};
}
BAD_INPUT("flag: a --system prompt with an overlong UTF-8 encoding names the flag") {
  return {.input = "`--system` holding C0 AF (an overlong '/')", .wrong = "invalid UTF-8", .files = data(),
          .args = sft({"--system", "a\xc0\xaf"}), .exit_code = kUsage, .message = "--system 'a\\xc0\\xaf': byte 1 is not valid UTF-8; Megaswift records its arguments as UTF-8 JSON, so rename the"};
}
BAD_INPUT("flag: a swift export --output_dir with a UTF-16 surrogate names the flag") {
  return {.input = "`--output_dir` holding ED A0 80 (a surrogate)", .wrong = "invalid UTF-8", .files = model(),
          .args = {"swift", "export", "--model", "model", "--to_mcore", "true", "--output_dir", "o\xed\xa0\x80"},
          .exit_code = kUsage, .message = "--output_dir 'o\\xed\\xa0\\x80'"};
}
BAD_INPUT("flag: --max_position_embeddings 0 is refused") {
  return {.input = "`--max_position_embeddings 0`", .wrong = "no positions", .files = data(),
          .args = sft({"--max_position_embeddings", "0"}), .exit_code = kUsage, .message = "--max_position_embeddings: '0' is out of range; it accepts an integer in [1, 268435456]"};
}
BAD_INPUT("flag: --max_position_embeddings -3 is refused") {
  return {.input = "`--max_position_embeddings -3`", .wrong = "negative", .files = data(),
          .args = sft({"--max_position_embeddings", "-3"}), .exit_code = kUsage,
          .message = "--max_position_embeddings: '-3' is out of range; it accepts an integer in [1, 268435456]"};
}
BAD_INPUT("flag: --max_position_embeddings past 2^28 is refused") {
  return {.input = "`--max_position_embeddings 1099511627776`", .wrong = "no model is that long", .files = data(),
          .args = sft({"--max_position_embeddings", "1099511627776"}), .exit_code = kUsage,
          .message = "--max_position_embeddings: '1099511627776' is out of range; it accepts an integer in [1, 268435456]"};
}
BAD_INPUT("flag: --max_length past learned absolute --max_position_embeddings is refused") {
  return {.input = "`--position_embedding_type learned_absolute --max_position_embeddings 64 --max_length 128`",
          .wrong = "positions past the embedding table", .files = data(),
          .args = sft({"--position_embedding_type", "learned_absolute", "--max_position_embeddings", "64",
                       "--max_length", "128"}),
          .exit_code = kUsage, .message = "learned absolute position embeddings have no row past it"};
}
BAD_INPUT("env: NPROC_PER_NODE=abc is not a process count") {
  return {.input = "`NPROC_PER_NODE=abc`", .wrong = "not a number", .files = data(), .args = sft({}),
          .exit_code = kUsage, .message = "NPROC_PER_NODE=abc: not a number of processes; set it to a whole number of at least 1 (1 trains in one", .env = {"NPROC_PER_NODE=abc"}};
}
BAD_INPUT("env: NPROC_PER_NODE=-1 is not a process count") {
  return {.input = "`NPROC_PER_NODE=-1`", .wrong = "negative", .files = data(), .args = sft({}), .exit_code = kUsage,
          .message = "NPROC_PER_NODE=-1: not a number of processes; set it to a whole number of at least 1 (1 trains in one", .env = {"NPROC_PER_NODE=-1"}};
}
BAD_INPUT("env: NPROC_PER_NODE=0 is not a process count") {
  return {.input = "`NPROC_PER_NODE=0`", .wrong = "zero", .files = data(), .args = sft({}), .exit_code = kUsage,
          .message = "NPROC_PER_NODE=0: not a number of processes; set it to a whole number of at least 1 (1 trains in one process)", .env = {"NPROC_PER_NODE=0"}};
}
BAD_INPUT("flag: --columns that is not JSON is refused") {
  return {.input = "`--columns '{not json'`", .wrong = "invalid JSON", .files = data(),
          .args = sft({"--columns", "{not json"}), .exit_code = kUsage, .message = "--columns: '{not json' is not valid JSON (parse error at line 1, column 3: syntax error while parsing object"};
}
BAD_INPUT("flag: --rope_scaling that is not JSON is refused") {
  return {.input = "`--rope_scaling xx`", .wrong = "invalid JSON", .files = data(),
          .args = sft({"--rope_scaling", "xx"}), .exit_code = kUsage, .message = "--rope_scaling: 'xx' is not valid JSON (parse error at line 1, column 1: syntax error while parsing value -"};
}
BAD_INPUT("flag: a value without its flag is refused") {
  return {.input = "`megatron sft stray`", .wrong = "a value without a flag", .files = data(), .args = {"megatron", "sft", "stray", "--model", "model"}, .exit_code = kUsage,
          .message = "unexpected argument 'stray' for megatron sft: every value follows its --flag (e.g. --dataset a b)"};
}
BAD_INPUT("flag: --lr given twice is refused") {
  return {.input = "`--lr 1e-4 --lr 1e-5`", .wrong = "given twice", .files = data(), .args = sft({"--lr", "1e-5"}),
          .exit_code = kUsage, .message = "--lr is given twice; give it once"};
}
BAD_INPUT("flag: --seed 1.5 is not a whole number") {
  return {.input = "`--seed 1.5`", .wrong = "a fraction", .files = data(), .args = sft({"--seed", "1.5"}),
          .exit_code = kUsage, .message = "--seed: '1.5' is not an integer"};
}
BAD_INPUT("flag: --num_threads -1 is refused") {
  return {.input = "`--num_threads -1`", .wrong = "negative", .files = data(), .args = sft({"--num_threads", "-1"}),
          .exit_code = kUsage, .message = "--num_threads: '-1' is out of range; it accepts an integer >= 0"};
}
BAD_INPUT("flag: --split_dataset_ratio 1.5 is refused") {
  return {.input = "`--split_dataset_ratio 1.5`", .wrong = "above 1", .files = data(),
          .args = {"megatron", "sft", "--model", "model", "--dataset", "d.jsonl", "--train_iters", "1",
                   "--split_dataset_ratio", "1.5"},
          .exit_code = kUsage, .message = "--split_dataset_ratio: '1.5' is out of range; it accepts a number in [0.0, 1.0]"};
}
BAD_INPUT("flag: --recompute_granularity full without its method is refused") {
  return {.input = "`--recompute_granularity full`", .wrong = "missing --recompute_method", .files = data(),
          .args = sft({"--recompute_granularity", "full"}), .exit_code = kUsage, .message = "--recompute_granularity full needs --recompute_method uniform|block and --recompute_num_layers N (e.g."};
}
BAD_INPUT("flag: --lr below --min_lr is refused") {
  return {.input = "`--lr 1e-4 --min_lr 1e-3`", .wrong = "inverted schedule", .files = data(),
          .args = sft({"--min_lr", "1e-3"}), .exit_code = kUsage, .message = "--lr 1e-04 is below --min_lr 0.001; raise --lr or lower --min_lr"};
}
BAD_INPUT("flag: --lr_warmup_iters past --train_iters is refused") {
  return {.input = "`--lr_warmup_iters 10 --train_iters 1`", .wrong = "warm-up longer than training", .files = data(),
          .args = sft({"--lr_warmup_iters", "10"}), .exit_code = kUsage, .message = "--lr_warmup_iters 10 must be below --lr_decay_iters 1 (which is --train_iters when unset); shorten the"};
}
BAD_INPUT("flag: --train_iters 0 is refused") {
  return {.input = "`--train_iters 0`", .wrong = "no steps", .files = data(),
          .args = {"megatron", "sft", "--model", "model", "--dataset", "d.jsonl", "--train_iters", "0"},
          .exit_code = kUsage, .message = "--train_iters: '0' is out of range; it accepts an integer >= 1"};
}
BAD_INPUT("flag: megatron sft without --dataset says what it needs") {
  return {.input = "no `--dataset`", .wrong = "missing input", .files = model(),
          .args = {"megatron", "sft", "--model", "model", "--train_iters", "1"}, .exit_code = kUsage,
          .message = "megatron sft needs training data: pass --dataset <dataset id or file> ..."};
}
BAD_INPUT("flag: swift export without a direction says both") {
  return {.input = "`swift export --model model`", .wrong = "no direction", .files = model(),
          .args = {"swift", "export", "--model", "model"}, .exit_code = kUsage, .message = "swift export needs a direction: --to_mcore true (Hugging Face -> Megatron) or --to_hf true (Megatron ->"};
}
BAD_INPUT("flag: swift export with both directions is refused") {
  return {.input = "`--to_mcore true --to_hf true`", .wrong = "two directions", .files = model(),
          .args = {"swift", "export", "--model", "model", "--to_mcore", "true", "--to_hf", "true"},
          .exit_code = kUsage, .message = "choose one direction"};
}
BAD_INPUT("flag: swift infer without a model says what it needs") {
  return {.input = "`swift infer`", .wrong = "no model", .files = {}, .args = {"swift", "infer"}, .exit_code = kUsage,
          .message = "swift infer needs a model: pass --model <Hugging Face model dir> or --mcore_model <Megatron checkpoint dir>"};
}
BAD_INPUT("flag: swift infer --temperature -1 is refused") {
  return {.input = "`--temperature -1`", .wrong = "negative", .files = model(),
          .args = {"swift", "infer", "--model", "model", "--temperature", "-1"}, .exit_code = kUsage,
          .message = "--temperature: '-1' is out of range; it accepts a number >= 0.0"};
}
BAD_INPUT("flag: swift infer --max_new_tokens 0 is refused") {
  return {.input = "`--max_new_tokens 0`", .wrong = "nothing to generate", .files = model(),
          .args = {"swift", "infer", "--model", "model", "--max_new_tokens", "0"}, .exit_code = kUsage,
          .message = "--max_new_tokens: '0' is out of range; it accepts an integer >= 1"};
}
BAD_INPUT("flag: --plugin_path that does not exist is named") {
  return {.input = "`--plugin_path nowhere`", .wrong = "missing folder", .files = data(),
          .args = sft({"--plugin_path", "nowhere"}), .exit_code = 1, .message = "--plugin_path nowhere: no such directory or file; pass a directory holding libmegaswift_<kind>_<name>.so files"};
}
BAD_INPUT("flag: an unknown flag with a control character is named and a known one suggested") {
  return {.input = "`--micro_batch\\x1b_size 1`", .wrong = "unknown flag", .files = data(),
          .args = sft({"--micro_batch\x1b_size", "1"}), .exit_code = kUsage,
          .message = "unknown flag --micro_batch\\x1b_size for megatron sft; did you mean --micro_batch_size?"};
}
