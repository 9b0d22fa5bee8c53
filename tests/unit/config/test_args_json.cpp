#include "host/config/config.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace megaswift::config;
using nlohmann::json;

namespace {

ParsedArgs resolved_sft() {
  ParsedArgs args = parse_command_line(
      Command::sft, {"--model", "Qwen/Qwen2.5-7B-Instruct", "--dataset", "a", "b", "--train_iters", "10",
                     "--rope_scaling", R"({"factor": 2.0, "type": "linear"})", "--lr", "3e-5", "--model_name", "x", "y"});
  resolve_derived_defaults(args);
  return args;
}

std::filesystem::path scratch_dir() {
  const char* binary = std::getenv("MEGASWIFT_BINARY_DIR");
  auto dir = std::filesystem::path(binary ? binary : std::filesystem::temp_directory_path().string()) / "test_config_scratch" /
             std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("args.json holds every option of the command, null for None") {
  const json j = args_to_json(resolved_sft());
  std::size_t options_of_sft = 0;
  for (const auto& spec : registry().options()) {
    if (!spec.commands.contains(Command::sft)) {
      CHECK_FALSE(j.contains(spec.name));
      continue;
    }
    ++options_of_sft;
    INFO("--" << spec.name);
    CHECK(j.contains(spec.name));
  }
  CHECK(j.size() == options_of_sft);
  CHECK(j.at("recompute_method").is_null());
  CHECK(j.at("save") == "megatron_output/Qwen2.5-7B-Instruct");
  CHECK(j.at("rope_scaling") == json{{"factor", 2.0}, {"type", "linear"}});
  CHECK(j.at("lr") == 3e-5);
}

TEST_CASE("args.json round-trips through a file") {
  const ParsedArgs original = resolved_sft();
  const auto path = scratch_dir() / "args.json";
  write_args_json(path, original);
  const ParsedArgs back = read_args_json(Command::sft, path);
  CHECK(back.values == original.values);
  CHECK(back.at("dataset") == json::array({"a", "b"}));
  CHECK(back.at("lr").is_number_float());
  CHECK(back.at("train_iters").is_number_integer());
  // What was read counts as fixed: resolving again derives nothing over it.
  ParsedArgs again = back;
  resolve_derived_defaults(again);
  CHECK(again.values == original.values);
  std::filesystem::remove_all(path.parent_path());
}

TEST_CASE("args.json with an unknown key, a wrong type or another command's option is refused") {
  CHECK_THROWS_WITH_AS(args_from_json(Command::sft, json{{"lrr", 1}}), "args.json: 'lrr' is not a Megaswift option",
                       ConfigError);
  CHECK_THROWS_WITH_AS(args_from_json(Command::sft, json{{"train_iters", "ten"}}),
                       "args.json key 'train_iters': \"ten\" is not an integer >= 1", ConfigError);
  CHECK_THROWS_WITH_AS(args_from_json(Command::sft, json{{"fp16", nullptr}}), doctest::Contains("null (None) is not allowed"),
                       ConfigError);
  CHECK_THROWS_WITH_AS(args_from_json(Command::sft, json{{"to_hf", true}}),
                       "args.json: 'to_hf' is an option of swift export, not of megatron sft", ConfigError);
  CHECK_THROWS_WITH_AS(args_from_json(Command::sft, json::array()), doctest::Contains("must hold a JSON object"), ConfigError);
  CHECK_THROWS_WITH_AS(read_args_json(Command::sft, "/nonexistent/args.json"), doctest::Contains("cannot read /nonexistent/args.json"),
                       ConfigError);
}

TEST_CASE("args.json read back keeps defaults for keys it lacks") {
  const ParsedArgs args = args_from_json(Command::export_model, json{{"to_hf", true}});
  CHECK(args.at("to_hf") == true);
  CHECK(args.at("test_convert_dtype") == "float32");
  CHECK(args.at("seed") == 42);
}
