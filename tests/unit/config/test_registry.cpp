#include "host/config/config.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

using namespace megaswift::config;
using nlohmann::json;

namespace {

struct SeedDefault {
  const char* name;
  const char* json_default;
};

const SeedDefault kSeedDefaults[] = {
#define MSW_SEED_DEFAULT(name, value) {#name, value},
#include "seed_defaults.inc"
#undef MSW_SEED_DEFAULT
};

std::filesystem::path seed_doc() {
  const char* source = std::getenv("MEGASWIFT_SOURCE_DIR");
  if (!source) return {};
  return std::filesystem::path(source) / ".." / "shared" / "seed" / "megatron-swift-training.md";
}

// The "- name: ..." bullets under "## Command Line Arguments".
std::vector<std::string> seed_parameter_names(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> names;
  std::string line;
  bool in_arguments = false;
  const std::regex bullet(R"(^- (?:\(hot\) |🔥)?([A-Za-z0-9_]+):)");
  while (std::getline(in, line)) {
    if (line.starts_with("## ")) in_arguments = line.starts_with("## Command Line Arguments");
    std::smatch m;
    if (in_arguments && std::regex_search(line, m, bullet)) names.push_back(m[1]);
  }
  return names;
}

OptionSpec tiny_spec(std::string name, std::string group) {
  OptionSpec spec;
  spec.name = std::move(name);
  spec.group = group;
  spec.help = std::move(group);
  spec.commands = {Command::sft};
  return spec;
}

}  // namespace

TEST_CASE("every seed parameter is declared with the default the seed states") {
  for (const auto& [name, expected_text] : kSeedDefaults) {
    // INFO captures in a lambda; clang before 16 cannot capture a structured binding, so a plain copy.
    const std::string flag = "--" + std::string(name);
    INFO(flag);
    const OptionSpec* spec = registry().find(name);
    REQUIRE(spec != nullptr);
    const json expected = json::parse(expected_text);
    CHECK(spec->default_value == expected);
    if (expected.is_number_float()) CHECK(spec->type == ValueType::floating);
    if (expected.is_number_integer()) CHECK(spec->type == ValueType::integer);
    if (expected.is_boolean()) CHECK(spec->type == ValueType::boolean);
    CHECK(spec->commands.contains(Command::pt));
    CHECK(spec->commands.contains(Command::sft));
  }
}

TEST_CASE("the registry knows every parameter the seed document lists") {
  const auto path = seed_doc();
  if (path.empty() || !std::filesystem::exists(path)) {
    MESSAGE("skipped: " << path.string() << " is not present (the seed sits beside the clone only in some checkouts)");
    return;
  }
  const auto names = seed_parameter_names(path);
  REQUIRE(names.size() > 90);
  std::set<std::string> in_table;
  for (const auto& entry : kSeedDefaults) in_table.insert(entry.name);
  for (const auto& name : names) {
    INFO("seed parameter --" << name);
    CHECK(registry().find(name) != nullptr);
    CHECK(in_table.count(name) == 1);  // seed_defaults.inc must list it too
  }
  CHECK(in_table.size() == names.size());
}

TEST_CASE("ms-swift 4.x names are aliases of the same options") {
  struct Case {
    Command command;
    const char* spelling;
    const char* option;
  };
  const Case cases[] = {
      {Command::sft, "mcore_model", "load"},        {Command::pt, "output_dir", "save"},
      {Command::sft, "save_steps", "save_interval"}, {Command::sft, "eval_steps", "eval_interval"},
      {Command::sft, "logging_steps", "log_interval"}, {Command::sft, "dataloader_num_workers", "num_workers"},
      {Command::sft, "max_epochs", "num_train_epochs"},
      // swift export has its own --output_dir and --mcore_model, not aliases of --save/--load.
      {Command::export_model, "output_dir", "output_dir"}, {Command::export_model, "mcore_model", "mcore_model"},
      {Command::infer, "mcore_model", "mcore_model"},
  };
  for (const auto& c : cases) {
    INFO(command_name(c.command) << " --" << c.spelling);
    const OptionSpec* spec = registry().lookup(c.command, c.spelling);
    REQUIRE(spec != nullptr);
    CHECK(spec->name == c.option);
  }
  CHECK(registry().lookup(Command::export_model, "save") == nullptr);
  CHECK(registry().lookup(Command::infer, "save_steps") == nullptr);
}

TEST_CASE("basic parameters carry ms-swift's defaults and choices") {
  const auto& r = registry();
  CHECK(r.find("truncation_strategy")->default_value == "delete");
  CHECK(r.find("truncation_strategy")->choices == std::vector<std::string>{"delete", "left", "right"});
  CHECK(r.find("loss_scale")->default_for(Command::sft) == "default");
  CHECK(r.find("loss_scale")->default_for(Command::pt) == "all");
  CHECK(r.find("torch_dtype")->choices == std::vector<std::string>{"bfloat16", "float16", "float32"});
  CHECK(r.find("split_dataset_ratio")->default_value == 0.01);
  CHECK(r.find("dataset_num_proc")->default_value == 1);
  CHECK(r.find("num_threads")->default_value == 0);
  CHECK(r.find("dataset")->type == ValueType::list);
  CHECK(r.find("columns")->type == ValueType::json);
  CHECK(r.find("model_name")->max_values == 2);
  CHECK(r.find("infer_backend")->default_value == "pt");
  CHECK(default_args(Command::pt).at("loss_scale") == "all");
}

TEST_CASE("the registry refuses two options answering to one spelling of a command") {
  OptionRegistry r;
  r.add_group("G");
  OptionSpec a = tiny_spec("save", "G");
  a.aliases.push_back({"output_dir", {Command::sft}});
  OptionSpec b = tiny_spec("output_dir", "G");
  r.add(a);
  r.add(b);
  CHECK_THROWS_WITH_AS(r.check_consistency(), doctest::Contains("--output_dir means both --save and --output_dir"),
                       std::logic_error);
}

TEST_CASE("the registry refuses a default outside the option's own choices") {
  OptionRegistry r;
  r.add_group("G");
  OptionSpec a = tiny_spec("granularity", "G");
  a.default_value = "partial";
  a.choices = {"full", "selective"};
  r.add(a);
  CHECK_THROWS_WITH_AS(r.check_consistency(), doctest::Contains("is not one of full, selective"), std::logic_error);
}
