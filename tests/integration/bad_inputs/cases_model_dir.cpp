// The Hugging Face model directory: config.json, tokenizer files and safetensors weights that are missing, special,
// damaged or nonsensical, through megatron pt (training) and swift export (conversion).
#include "bad_input_case.hpp"

#include <cstdint>
#include <string>

namespace {

using namespace megaswift::bad_inputs;

std::vector<std::string> pt(std::vector<std::string> extra = {}) {
  std::vector<std::string> args = train_args({"megatron", "pt", "--model", "model", "--dataset", "c.txt"});
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}
std::vector<std::string> to_mcore() {
  return {"swift", "export", "--model", "model", "--to_mcore", "true", "--output_dir", "mcore"};
}
File corpus() { return text("c.txt", "hello world\nthe quick brown fox\n"); }
std::vector<File> with_config(const std::string& edit) { return with_model({corpus()}, model_config(edit)); }

// A safetensors file: 8-byte little-endian header length, the header, then `data_bytes` zero bytes.
std::string safetensors(const std::string& header, std::size_t data_bytes, uint64_t claimed_length = 0) {
  uint64_t n = claimed_length ? claimed_length : header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}
// The fixture model with its weights replaced by `weights`.
std::vector<File> with_weights(const std::string& weights) {
  std::vector<File> files = with_model({corpus()});
  files.push_back(removed("model/model.safetensors"));
  files.push_back(text("model/model.safetensors", weights));
  return files;
}

}  // namespace

BAD_INPUT("model: --model that does not exist says Megaswift does not download") {
  return {.input = "`--model nowhere`", .wrong = "no such directory", .files = {corpus()},
          .args = train_args({"megatron", "pt", "--model", "nowhere", "--dataset", "c.txt"}),
          .message = "--model nowhere is not a local directory"};
}
BAD_INPUT("model: --model naming config.json says to pass the directory") {
  return {.input = "`--model model/config.json`", .wrong = "a file", .files = with_model({corpus()}),
          .args = train_args({"megatron", "pt", "--model", "model/config.json", "--dataset", "c.txt"}),
          .exit_code = 2, .message = "--model model/config.json is a file, not a directory: pass the Hugging Face model directory that holds"};
}
BAD_INPUT("model: config.json that is a FIFO is refused instead of blocking") {
  return {.input = "`model/config.json` is a FIFO", .wrong = "would block",
          .files = {corpus(), fifo("model/config.json"), fixture("model/tokenizer.json", "tokenizers/byte_level/tokenizer.json")},
          .args = pt(), .message = "is a FIFO (named pipe), not a regular file"};
}
BAD_INPUT("model: config.json that is a folder is refused") {
  return {.input = "`model/config.json` is a folder", .wrong = "a directory",
          .files = {corpus(), directory("model/config.json"), fixture("model/tokenizer.json", "tokenizers/byte_level/tokenizer.json")},
          .args = pt(), .message = "is a directory, not a regular file"};
}
BAD_INPUT("model: config.json that is not JSON says the directory looks damaged") {
  return {.input = "`config.json` holding `{\"hidden_size\": 6`", .wrong = "invalid JSON",
          .files = with_model({corpus()}, "{\"hidden_size\": 6"), .args = pt(), .message = "model/config.json is not a JSON object: the model directory looks damaged; copy the model's config.json again"};
}
BAD_INPUT("model: config.json that is a JSON list is refused") {
  return {.input = "`config.json` holding `[1, 2]`", .wrong = "not an object", .files = with_model({corpus()}, "[1, 2]"),
          .args = pt(), .message = "model/config.json is not a JSON object: the model directory looks damaged; copy the model's config.json again"};
}
BAD_INPUT("model: a config.json of 300 MiB is refused by its size before reading") {
  return {.input = "a 300 MiB `config.json`", .wrong = "over the 256 MiB limit of small text files",
          .files = with_model({corpus(), removed("model/config.json"),
                               filled("model/config.json", "{\"pad\": \"", std::size_t{300} << 20, "\"}")}),
          .args = pt(), .message = "config.json has 314572811 bytes, more than the 268435456"};
}
BAD_INPUT("model: hidden_size 0 is refused by name") {
  return {.input = "`\"hidden_size\": 0`", .wrong = "not positive", .files = with_config(R"({"hidden_size": 0})"),
          .args = pt(), .exit_code = 2, .message = "\"hidden_size\" must be positive, got 0"};
}
BAD_INPUT("model: hidden_size -64 is refused by name") {
  return {.input = "`\"hidden_size\": -64`", .wrong = "negative", .files = with_config(R"({"hidden_size": -64})"),
          .args = pt(), .exit_code = 2, .message = "\"hidden_size\" must be positive, got -64"};
}
BAD_INPUT("model: hidden_size 2^40 is refused before allocating") {
  return {.input = "`\"hidden_size\": 1099511627776`", .wrong = "no model is that large",
          .files = with_config(R"({"hidden_size": 1099511627776})"), .args = pt(), .exit_code = 2, .message = "no model is that large"};
}
BAD_INPUT("model: num_attention_heads 0 is refused by name") {
  return {.input = "`\"num_attention_heads\": 0`", .wrong = "not positive",
          .files = with_config(R"({"num_attention_heads": 0})"), .args = pt(),
          .exit_code = 2, .message = "\"num_attention_heads\" must be positive, got 0"};
}
BAD_INPUT("model: num_hidden_layers 0 is refused by name") {
  return {.input = "`\"num_hidden_layers\": 0`", .wrong = "not positive",
          .files = with_config(R"({"num_hidden_layers": 0})"), .args = pt(),
          .exit_code = 2, .message = "\"num_hidden_layers\" must be positive, got 0"};
}
BAD_INPUT("model: intermediate_size -1 is refused by name") {
  return {.input = "`\"intermediate_size\": -1`", .wrong = "negative",
          .files = with_config(R"({"intermediate_size": -1})"), .args = pt(),
          .exit_code = 2, .message = "\"intermediate_size\" must be positive, got -1"};
}
BAD_INPUT("model: vocab_size 0 is refused by name") {
  return {.input = "`\"vocab_size\": 0`", .wrong = "not positive", .files = with_config(R"({"vocab_size": 0})"),
          .args = pt(), .exit_code = 2, .message = "model/config.json (model plugin qwen2): the qwen2 config.json: \"vocab_size\" must be positive, got 0"};
}
BAD_INPUT("model: vocab_size smaller than the tokenizer's is refused") {
  return {.input = "`\"vocab_size\": 100` with a 256-token tokenizer", .wrong = "ids past the embedding",
          .files = with_config(R"({"vocab_size": 100})"), .args = pt(),
          .message = "has shape [256, 64], expected [100, 64]"};
}
BAD_INPUT("model: hidden_size smaller than the head count is refused") {
  return {.input = "`\"hidden_size\": 2` with 4 heads", .wrong = "heads without channels",
          .files = with_config(R"({"hidden_size": 2})"), .args = pt(),
          .exit_code = 2, .message = "so a head would have no channels"};
}
BAD_INPUT("model: max_position_embeddings 0 is refused by name") {
  return {.input = "`\"max_position_embeddings\": 0`", .wrong = "no positions",
          .files = with_config(R"({"max_position_embeddings": 0})"), .args = pt(),
          .message = "\"max_position_embeddings\" is 0, not a whole number of positions from 1 to 268435456"};
}
BAD_INPUT("model: max_position_embeddings -1 is refused by name") {
  return {.input = "`\"max_position_embeddings\": -1`", .wrong = "negative",
          .files = with_config(R"({"max_position_embeddings": -1})"), .args = pt(),
          .message = "\"max_position_embeddings\" is -1"};
}
BAD_INPUT("model: max_position_embeddings 2^40 is refused instead of lifting the row bound") {
  return {.input = "`\"max_position_embeddings\": 1099511627776`", .wrong = "nonsensical; would be the default --max_length",
          .files = with_config(R"({"max_position_embeddings": 1099511627776})"), .args = pt(),
          .message = "\"max_position_embeddings\" is 1099511627776"};
}
BAD_INPUT("model: max_position_embeddings as a string is refused by name") {
  return {.input = "`\"max_position_embeddings\": \"4k\"`", .wrong = "wrong type",
          .files = with_config(R"({"max_position_embeddings": "4k"})"), .args = pt(),
          .message = "\"max_position_embeddings\" is \"4k\""};
}
BAD_INPUT("model: --max_length past max_position_embeddings warns about untrained positions") {
  return {.input = "`--max_length 4096` on a model of 128 positions", .wrong = "positions the model never saw",
          .files = with_model({corpus()}), .args = pt({"--max_length", "4096", "--val_dataset", "missing.txt"}),
          .message = "is more than the 128 positions the model was trained for"};
}
BAD_INPUT("model: config.json without model_type is refused") {
  return {.input = "`config.json` without `model_type`", .wrong = "missing field",
          .files = with_config(R"({"model_type": null, "architectures": null})"), .args = pt(), .exit_code = 2, .message = "model/config.json is missing the field \"model_type\" (a string such as \"qwen2\" naming the architecture)"};
}
BAD_INPUT("model: an unknown model_type names it") {
  return {.input = "`\"model_type\": \"gpt9\"`", .wrong = "no plugin builds it",
          .files = with_config(R"({"model_type": "gpt9", "architectures": ["Gpt9ForCausalLM"]})"), .args = pt(),
          .message = "model/config.json: no model plugin serves HF model_type \"gpt9\". Model plugins: "};
}
BAD_INPUT("model: config.json without hidden_size names the field") {
  return {.input = "`config.json` without `hidden_size`", .wrong = "missing field",
          .files = with_config(R"({"hidden_size": null})"), .args = pt(), .exit_code = 2, .message = "model/config.json (model plugin qwen2): the qwen2 config.json is missing the field \"hidden_size\""};
}
BAD_INPUT("model: config.json without num_attention_heads names the field") {
  return {.input = "`config.json` without `num_attention_heads`", .wrong = "missing field",
          .files = with_config(R"({"num_attention_heads": null})"), .args = pt(), .exit_code = 2, .message = "model/config.json (model plugin qwen2): the qwen2 config.json is missing the field \"num_attention_heads\""};
}
BAD_INPUT("model: config.json without vocab_size names the field") {
  return {.input = "`config.json` without `vocab_size`", .wrong = "missing field",
          .files = with_config(R"({"vocab_size": null})"), .args = pt(), .exit_code = 2, .message = "model/config.json (model plugin qwen2): the qwen2 config.json is missing the field \"vocab_size\""};
}
BAD_INPUT("model: hidden_size as a string names the field") {
  return {.input = "`\"hidden_size\": \"64\"`", .wrong = "wrong type", .files = with_config(R"({"hidden_size": "64"})"),
          .args = pt(), .exit_code = 2, .message = "model/config.json (model plugin qwen2): the qwen2 config.json: field \"hidden_size\" has the wrong type (\"64\")"};
}
BAD_INPUT("model: a missing tokenizer.json is named") {
  return {.input = "no `tokenizer.json`", .wrong = "missing file",
          .files = with_model({corpus(), removed("model/tokenizer.json")}), .args = pt(), .message = "--model: no tokenizer plugin reads the model directory model (it holds tokenizer_config.json); tokenizer"};
}
BAD_INPUT("model: tokenizer.json that is a FIFO is refused instead of blocking") {
  return {.input = "`tokenizer.json` is a FIFO", .wrong = "would block",
          .files = with_model({corpus(), removed("model/tokenizer.json"), fifo("model/tokenizer.json")}), .args = pt(),
          .message = "is a FIFO (named pipe), not a regular file"};
}
BAD_INPUT("model: tokenizer.json that is not JSON is named") {
  return {.input = "`tokenizer.json` holding `{\"model\":`", .wrong = "invalid JSON",
          .files = with_model({corpus(), removed("model/tokenizer.json"), text("model/tokenizer.json", "{\"model\":")}),
          .args = pt(),
          .message = "--model: model/tokenizer.json is not valid JSON (at byte 10): the file is damaged or cut short"};
}
BAD_INPUT("model: a tokenizer.json cut short is named as damaged") {
  return {.input = "`tokenizer.json` cut to 1000 bytes", .wrong = "truncated copy",
          .files = with_model({corpus(), truncated("model/tokenizer.json", 1000)}), .args = pt(),
          .message = "--model: model/tokenizer.json is not valid JSON (at byte 1001): the file is damaged or cut short"};
}
BAD_INPUT("model: tokenizer_config.json that is a FIFO is refused instead of blocking") {
  return {.input = "`tokenizer_config.json` is a FIFO", .wrong = "would block",
          .files = with_model({corpus(), removed("model/tokenizer_config.json"), fifo("model/tokenizer_config.json")}),
          .args = pt(), .message = "tokenizer file model/tokenizer_config.json is a FIFO (named pipe), not a regular file"};
}
BAD_INPUT("model: a tokenizer with an empty vocabulary is refused") {
  return {.input = "`tokenizer.json` with `\"vocab\": {}`", .wrong = "empty vocabulary",
          .files = with_model({corpus(), removed("model/tokenizer.json"),
                               text("model/tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})")}),
          .args = pt(), .message = "the vocabulary is empty"};
}
BAD_INPUT("model: a tokenizer token id of 2^31-1 is refused as damage") {
  return {.input = "a vocab entry with id 2147483647", .wrong = "damaged id",
          .files = with_model({corpus(), removed("model/tokenizer.json"),
                               text("model/tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 0, "stray": 2147483647}, "merges": []}})")}),
          .args = pt(), .message = "id 2147483647 is not below"};
}
BAD_INPUT("model: tokenizer_config.json that is not JSON is named") {
  return {.input = "`tokenizer_config.json` holding `{`", .wrong = "invalid JSON",
          .files = with_model({corpus(), removed("model/tokenizer_config.json"), text("model/tokenizer_config.json", "{")}),
          .args = pt(), .message = "tokenizer_config.json"};
}
BAD_INPUT("weights: a missing model.safetensors is named") {
  return {.input = "no weights file", .wrong = "missing file", .files = with_model({corpus(), removed("model/model.safetensors")}),
          .args = to_mcore(), .message = "model directory model has neither model.safetensors nor model.safetensors.index.json (only safetensors"};
}
BAD_INPUT("weights: a model.safetensors cut in half is refused") {
  return {.input = "`model.safetensors` cut to half its bytes", .wrong = "truncated",
          .files = with_model({corpus(), truncated("model/model.safetensors", 200000)}), .args = to_mcore(),
          .message = "safetensors file model/model.safetensors: tensor 'model.layers.0.mlp.up_proj.weight' data_offsets [196864"};
}
BAD_INPUT("weights: a model.safetensors of 5 bytes is refused") {
  return {.input = "`model.safetensors` of 5 bytes", .wrong = "shorter than its header length",
          .files = with_model({corpus(), truncated("model/model.safetensors", 5)}), .args = to_mcore(),
          .message = "safetensors file model/model.safetensors: file is 5 bytes, shorter than the 8-byte header length"};
}
BAD_INPUT("weights: a safetensors header length of 2^63 is refused before allocating") {
  return {.input = "header length field 2^63", .wrong = "absurd header length",
          .files = with_weights(safetensors("{}", 0, uint64_t{1} << 63)), .args = to_mcore(),
          .message = "safetensors file model/model.safetensors: header length 9223372036854775808 exceeds the 100 MB limit (corrupt"};
}
BAD_INPUT("weights: a safetensors shape whose element count overflows 64 bits is refused") {
  return {.input = "shape `[4294967296, 4294967296]` F32", .wrong = "element count wraps",
          .files = with_weights(safetensors(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}})", 0)),
          .args = to_mcore(), .message = "has more elements than 64 bits can count"};
}
BAD_INPUT("weights: a safetensors dtype that is not a string is refused") {
  return {.input = "`\"dtype\": 5`", .wrong = "malformed header",
          .files = with_weights(safetensors(R"({"w": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}})", 4)),
          .args = to_mcore(), .message = "safetensors file model/model.safetensors: tensor 'w' dtype is not a string"};
}
BAD_INPUT("weights: safetensors data_offsets past the file are refused") {
  return {.input = "`data_offsets [0, 1000000]` in a 4-byte body", .wrong = "offsets past the end",
          .files = with_weights(safetensors(R"({"w": {"dtype": "F32", "shape": [250000], "data_offsets": [0, 1000000]}})", 4)),
          .args = to_mcore(), .message = "safetensors file model/model.safetensors: tensor 'w' data_offsets [0, 1000000) lie outside the 4-byte data"};
}
BAD_INPUT("weights: a safetensors header that is not JSON is refused") {
  return {.input = "header bytes `{\"w\": [`", .wrong = "invalid JSON header",
          .files = with_weights(safetensors("{\"w\": [", 0)), .args = to_mcore(), .message = "safetensors file model/model.safetensors: header is not valid JSON: [json.exception.parse_error.101] parse"};
}
BAD_INPUT("weights: model.safetensors that is a FIFO is refused instead of blocking") {
  return {.input = "`model.safetensors` is a FIFO", .wrong = "would block",
          .files = with_model({corpus(), removed("model/model.safetensors"), fifo("model/model.safetensors")}),
          .args = to_mcore(), .exit_code = 2, .message = "is a FIFO (named pipe), not a regular file"};
}
BAD_INPUT("weights: a shard index naming a missing shard is named") {
  return {.input = "`model.safetensors.index.json` naming `model-00002.safetensors` that is absent",
          .wrong = "missing shard",
          .files = with_model({corpus(), removed("model/model.safetensors"),
                               text("model/model.safetensors.index.json",
                                    R"({"weight_map": {"model.embed_tokens.weight": "model-00002.safetensors"}})")}),
          .args = to_mcore(), .message = "index model/model.safetensors.index.json maps 'model.embed_tokens.weight' to model-00002.safetensors, which"};
}
BAD_INPUT("weights: a shard index that is not JSON is named") {
  return {.input = "`model.safetensors.index.json` holding `{`", .wrong = "invalid JSON",
          .files = with_model({corpus(), removed("model/model.safetensors"), text("model/model.safetensors.index.json", "{")}),
          .args = to_mcore(), .message = "index model/model.safetensors.index.json is not valid JSON: [json.exception.parse_error.101] parse error at"};
}
BAD_INPUT("weights: a shard index pointing outside the model directory is refused") {
  return {.input = "a weight_map entry `../../etc/passwd`", .wrong = "path escapes the directory",
          .files = with_model({corpus(), removed("model/model.safetensors"),
                               text("model/model.safetensors.index.json",
                                    R"({"weight_map": {"model.embed_tokens.weight": "../../etc/passwd"}})")}),
          .args = to_mcore(), .message = "index model/model.safetensors.index.json: shard '../../etc/passwd' of 'model.embed_tokens.weight' must be a"};
}
BAD_INPUT("weights: a weight of the wrong shape for config.json is named") {
  return {.input = "config says `hidden_size` 32, weights are 64 wide", .wrong = "shape mismatch",
          .files = with_config(R"({"hidden_size": 32, "intermediate_size": 64})"), .args = to_mcore(),
          .message = "tensor 'model.embed_tokens.weight' in model/model.safetensors has shape [256, 64], expected [256, 32]"};
}
BAD_INPUT("weights: a weight missing from model.safetensors is named") {
  return {.input = "a safetensors file holding only `x`", .wrong = "missing tensors",
          .files = with_weights(safetensors(R"({"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 4)),
          .args = to_mcore(), .message = "tensor 'model.embed_tokens.weight' is missing from model/model.safetensors (1 tensors present)"};
}
