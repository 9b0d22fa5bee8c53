// Hostile tokenizer files (issue 12): a FIFO or a device in place of tokenizer.json / tokenizer_config.json, an empty
// vocabulary, and token ids so large that the id tables would take tens of gigabytes. Each is refused by name; before
// the fix the FIFO blocked the load forever and the empty vocabulary was accepted.
#include "hostile_input.hpp"
#include "tiny_tokenizer.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

namespace {

const bool kWatchdog = megaswift::test::arm_watchdog(60);

std::string load_error(const hf_bpe::TokenizerFiles& files) {
  try {
    hf_bpe::HfTokenizer tok(files);
  } catch (const megaswift::sdk::Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string load_error(const tiny::Json& tokenizer) {
  try {
    tiny::load(tokenizer);
  } catch (const megaswift::sdk::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a FIFO as tokenizer.json is refused by name instead of blocking the load") {
  const std::string fifo = (tiny::temp_dir() / "fifo_tokenizer.json").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  hf_bpe::TokenizerFiles files;
  files.tokenizer_json = fifo;
  std::string message;
  const auto bound = megaswift::test::measure([&] { message = load_error(files); });
  CHECK(message.find("tokenizer.json " + fifo + " is a FIFO (named pipe), not a regular file") == 0);
  CHECK(bound.seconds < 5);
}

TEST_CASE("/dev/urandom as tokenizer_config.json is refused as a character device, in bounded memory") {
  hf_bpe::TokenizerFiles files;
  files.tokenizer_json = tiny::write("ok_tokenizer.json", tiny::tokenizer_json(tiny::byte_level_model({})));
  files.tokenizer_config_json = "/dev/urandom";
  std::string message;
  const auto bound = megaswift::test::measure([&] { message = load_error(files); });
  CHECK(message.find("tokenizer_config.json /dev/urandom is a character device, not a regular file") == 0);
  CHECK(bound.peak_growth_mib < 64);
}

TEST_CASE("a tokenizer.json with an empty vocabulary is refused") {
  tiny::Json model = tiny::byte_level_model({});
  model["vocab"] = tiny::Json::object();
  CHECK(load_error(tiny::tokenizer_json(model)).find("field 'model.vocab': the vocabulary is empty") !=
        std::string::npos);
}

TEST_CASE("token ids at 2^24 and above are refused before the id tables are sized by them") {
  tiny::Json model = tiny::byte_level_model({});
  model["vocab"]["stray"] = 2147483647;  // INT32_MAX: the table would have 2^31 slots
  std::string message;
  const auto bound = megaswift::test::measure([&] { message = load_error(tiny::tokenizer_json(model)); });
  CHECK(message.find("field 'model.vocab.stray': id 2147483647 is not below 16777216") != std::string::npos);
  CHECK(bound.peak_growth_mib < 256);

  const tiny::Json added = tiny::Json::array({tiny::added_token(16777216, "<big>", true)});
  CHECK(load_error(tiny::tokenizer_json(tiny::byte_level_model({}), added)).find("id 16777216 is not below 16777216") !=
        std::string::npos);
}
