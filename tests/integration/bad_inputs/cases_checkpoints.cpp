// The files a checkpoint consists of, as `megatron sft --load` and `swift export --to_hf` read them: each case first
// saves a healthy checkpoint with megatron pt (one step of the tiny model), then damages one file.
#include "bad_input_case.hpp"

#include <string>

namespace {

using namespace megaswift::bad_inputs;

// Saves iteration 1 into ck/ in `format`.
std::vector<std::vector<std::string>> save(const std::string& format = "torch_dist") {
  return {train_args({"megatron", "pt", "--model", "model", "--dataset", "c.txt", "--save", "ck", "--add_version",
                      "false", "--ckpt_format", format, "--no_save_optim", "true", "--no_save_rng", "true"})};
}
std::vector<File> inputs() { return with_model({text("c.txt", "hello world\nthe quick brown fox\n")}); }
std::vector<std::string> load(const std::string& dir = "ck") {
  return train_args({"megatron", "pt", "--model", "model", "--dataset", "c.txt", "--load", dir, "--no_load_optim",
                     "true", "--no_load_rng", "true"},
                    2);
}
std::vector<std::string> to_hf(const std::string& dir = "ck") {
  return {"swift", "export", "--mcore_model", dir, "--to_hf", "true", "--output_dir", "hf"};
}
const std::string kTracker = "ck/latest_checkpointed_iteration.txt";
const std::string kIter = "ck/iter_0000001";

}  // namespace

BAD_INPUT("checkpoint: --load of a missing directory is named") {
  return {.input = "`--load nowhere`", .wrong = "no such directory", .files = inputs(), .args = load("nowhere"),
          .message = "--load nowhere: no checkpoint tracker file nowhere/latest_checkpointed_iteration.txt (is it a Megatron"};
}
BAD_INPUT("checkpoint: --load of a file is named") {
  return {.input = "`--load c.txt`", .wrong = "a file", .files = inputs(), .args = load("c.txt"), .message = "--load c.txt: no checkpoint tracker file c.txt/latest_checkpointed_iteration.txt (is it a Megatron checkpoint"};
}
BAD_INPUT("checkpoint: --load of an empty folder says it holds no checkpoint") {
  return {.input = "`--load empty/`", .wrong = "no tracker, no iteration", .files = inputs() , .args = load("empty"),
          .message = "--load empty: no checkpoint tracker file empty/latest_checkpointed_iteration.txt (is it a Megatron checkpoint", .setup = {}, .after = {directory("empty")}};
}
BAD_INPUT("checkpoint: --load of a Hugging Face folder says to pass it as --model") {
  return {.input = "`--load model` (safetensors, no checkpoint)", .wrong = "an HF model, not a checkpoint",
          .files = inputs(), .args = load("model"), .message = "--load model: no checkpoint tracker file model/latest_checkpointed_iteration.txt (is it a Megatron checkpoint"};
}
BAD_INPUT("checkpoint: a tracker file holding abc is named and the newest checkpoint that opens is loaded") {
  return {.input = "tracker `abc`", .wrong = "not an iteration", .files = inputs(), .args = load(),
          .exit_code = 0, .message = "holds 'abc', expected an iteration number or 'release'", .setup = save(),
          .after = {text(kTracker, "abc")}};
}
BAD_INPUT("checkpoint: a tracker file holding -5 is named and the newest checkpoint that opens is loaded") {
  return {.input = "tracker `-5`", .wrong = "negative iteration", .files = inputs(), .args = load(),
          .exit_code = 0, .message = "holds '-5', expected an iteration number or 'release'", .setup = save(),
          .after = {text(kTracker, "-5")}};
}
BAD_INPUT("checkpoint: an empty tracker file is named and the newest checkpoint that opens is loaded") {
  return {.input = "tracker of 0 bytes", .wrong = "empty", .files = inputs(), .args = load(),
          .exit_code = 0, .message = "holds '', expected an iteration number", .setup = save(), .after = {text(kTracker, "")}};
}
BAD_INPUT("checkpoint: a tracker past int64 is named and the newest checkpoint that opens is loaded") {
  return {.input = "tracker `99999999999999999999`", .wrong = "past int64", .files = inputs(), .args = load(),
          .exit_code = 0, .message = "tracker file ck/latest_checkpointed_iteration.txt holds '99999999999999999999', expected an iteration number", .setup = save(), .after = {text(kTracker, "99999999999999999999")}};
}
BAD_INPUT("checkpoint: a tracker naming a missing iteration is named and the newest checkpoint that opens is loaded") {
  return {.input = "tracker `7` with only iter_0000001", .wrong = "dangling tracker", .files = inputs(), .args = load(),
          .exit_code = 0, .message = "names iteration iter_0000007 but ck/iter_0000007 does not exist", .setup = save(), .after = {text(kTracker, "7")}};
}
BAD_INPUT("checkpoint: a tracker file that is a FIFO is not waited on: named, and the newest checkpoint that opens is loaded") {
  return {.input = "tracker is a FIFO", .wrong = "would block", .files = inputs(), .args = load(),
          .exit_code = 0, .message = "is a FIFO (named pipe), not a regular file", .setup = save(),
          .after = {removed(kTracker), fifo(kTracker)}};
}
BAD_INPUT("checkpoint: a tracker file of 300 MiB is refused by size before reading, and the newest checkpoint that opens is loaded") {
  return {.input = "tracker of 300 MiB", .wrong = "over the 256 MiB limit of small text files", .files = inputs(),
          .args = load(), .exit_code = 0, .message = "checkpoint file ck/latest_checkpointed_iteration.txt has 314572801 bytes, more than the 268435456 such a file", .setup = save(),
          .after = {filled(kTracker, "1", std::size_t{300} << 20, "", ' ')}};
}
BAD_INPUT("checkpoint: torch_dist .metadata removed is named") {
  return {.input = "torch_dist without `.metadata`", .wrong = "missing metadata", .files = inputs(), .args = load(),
          .message = "torch_dist checkpoint ck/iter_0000001: checkpoint file ck/iter_0000001/.metadata does not exist", .setup = save(), .after = {removed(kIter + "/.metadata")}};
}
BAD_INPUT("checkpoint: torch_dist .metadata cut to 10 bytes is refused") {
  return {.input = "`.metadata` of 10 bytes", .wrong = "truncated pickle", .files = inputs(), .args = load(),
          .message = "torch_dist checkpoint ck/iter_0000001: ck/iter_0000001/.metadata: malformed pickle at byte 2: GLOBAL name", .setup = save(), .after = {truncated(kIter + "/.metadata", 10)}};
}
BAD_INPUT("checkpoint: torch_dist .metadata of text is refused") {
  return {.input = "`.metadata` holding `not a pickle`", .wrong = "not a pickle", .files = inputs(), .args = load(),
          .message = "torch_dist checkpoint ck/iter_0000001: ck/iter_0000001/.metadata: pickle opcode 0x6e (unknown) at byte 0 is", .setup = save(), .after = {text(kIter + "/.metadata", "not a pickle")}};
}
BAD_INPUT("checkpoint: a torch_dist .distcp shard cut short is refused") {
  return {.input = "`__0_0.distcp` cut to 100 bytes", .wrong = "truncated shard", .files = inputs(), .args = load(),
          .message = "torch_dist checkpoint ck/iter_0000001: ck/iter_0000001/.metadata: item 'embedding.word_embeddings.weight' at", .setup = save(), .after = {truncated(kIter + "/__0_0.distcp", 100)}};
}
BAD_INPUT("checkpoint: a torch_dist .distcp that is a FIFO is refused instead of blocking") {
  return {.input = "`__0_0.distcp` is a FIFO", .wrong = "would block", .files = inputs(), .args = load(),
          .exit_code = 2, .message = "torch_dist checkpoint ck/iter_0000001: checkpoint file ck/iter_0000001/__0_0.distcp is a FIFO (named pipe)", .setup = save(), .after = {removed(kIter + "/__0_0.distcp"), fifo(kIter + "/__0_0.distcp")}};
}
BAD_INPUT("checkpoint: swift export of a checkpoint with a damaged .metadata is refused") {
  return {.input = "`swift export --to_hf` with `.metadata` of text", .wrong = "not a pickle", .files = inputs(),
          .args = to_hf(), .message = "torch_dist checkpoint ck/iter_0000001: ck/iter_0000001/.metadata: pickle opcode 0x6e (unknown) at byte 0 is", .setup = save(),
          .after = {text(kIter + "/.metadata", "not a pickle")}};
}
BAD_INPUT("checkpoint: swift export of a tracker holding abc names it and exports the newest checkpoint that opens") {
  return {.input = "`swift export --to_hf` with tracker `abc`", .wrong = "not an iteration", .files = inputs(),
          .args = to_hf(), .exit_code = 0, .message = "tracker file ck/latest_checkpointed_iteration.txt holds 'abc', expected an iteration number or 'release'", .setup = save(), .after = {text(kTracker, "abc")}};
}
BAD_INPUT("checkpoint: zarr .zarray that is not JSON is refused") {
  return {.input = "zarr: every `.zarray` replaced by `{`", .wrong = "invalid metadata", .files = inputs(),
          .args = load(), .exit_code = 2, .message = "zarr checkpoint ck/iter_0000001: ck/iter_0000001/embedding.word_embeddings.weight/.zarray is not valid JSON", .setup = save("zarr"),
          .after = {text(kIter + "/embedding.word_embeddings.weight/.zarray", "{")}};
}
BAD_INPUT("checkpoint: a zarr array of absurd shape is refused before allocating") {
  return {.input = "zarr `.zarray` with shape [2^40, 2^40]", .wrong = "absurd shape", .files = inputs(), .args = load(),
          .exit_code = 2, .message = "embedding.word_embeddings.weight", .setup = save("zarr"),
          .after = {text(kIter + "/embedding.word_embeddings.weight/.zarray",
                         R"({"zarr_format": 2, "shape": [1099511627776, 1099511627776], "chunks": [1099511627776, 1099511627776], "dtype": "<f4", "compressor": null, "fill_value": 0, "order": "C", "filters": null})")}};
}
BAD_INPUT("checkpoint: a zarr chunk cut short is refused") {
  return {.input = "zarr chunk `0.0` cut to 8 bytes", .wrong = "truncated chunk", .files = inputs(), .args = load(),
          .message = "embedding.word_embeddings.weight", .setup = save("zarr"),
          .after = {truncated(kIter + "/embedding.word_embeddings.weight/0.0", 8)}};
}
BAD_INPUT("checkpoint: a safetensors checkpoint shard cut short is refused") {
  return {.input = "`--ckpt_format safetensors` shard cut to 16 bytes", .wrong = "truncated", .files = inputs(),
          .args = load(), .message = "safetensors checkpoint ck/iter_0000001: safetensors file ck/iter_0000001/model.safetensors: the header length", .setup = save("safetensors"),
          .after = {truncated(kIter + "/model.safetensors", 16)}};
}
BAD_INPUT("checkpoint: a checkpoint of another model's shapes is named") {
  return {.input = "a checkpoint of hidden 64 loaded into a config of hidden 32", .wrong = "shape mismatch",
          .files = inputs(),
          .args = train_args({"megatron", "pt", "--model", "small", "--dataset", "c.txt", "--load", "ck",
                              "--no_load_optim", "true", "--no_load_rng", "true"},
                             2),
          .message = "checkpoint ck/iter_0000001: tensor embedding.word_embeddings.weight has shape [256, 64], but model plugin", .setup = save(),
          .after = {text("small/config.json", model_config(R"({"hidden_size": 32, "intermediate_size": 64})")),
                    fixture("small/tokenizer.json", "tokenizers/byte_level/tokenizer.json"),
                    fixture("small/tokenizer_config.json", "tokenizers/byte_level/tokenizer_config.json")}};
}
BAD_INPUT("checkpoint: an hdf5 rank file that makes libhdf5 loop forever is refused as damaged within the time limit") {
  return {.input = "hdf5 `rank_0.h5` with a global-heap entry of size 0 (fuzz/findings)", .wrong = "libhdf5 1.10 loops on it",
          .files = inputs(), .args = load(), .exit_code = 2,
          .message = "libhdf5 did not finish reading the checkpoint's metadata within 2 s", .env = {"MEGASWIFT_HDF5_METADATA_SECONDS=2"},
          .setup = save("hdf5"),
          .after = {removed(kIter + "/rank_0.h5"),
                    fixture(kIter + "/rank_0.h5", "../../fuzz/findings/hdf5_global_heap_zero_free_entry.h5")}};
}
