// build_training_data on the real Qwen tokenizer and the chat template plugin, with bundled and crafted datasets.
#include "pipeline_fixture.hpp"

#include "datasets/core/loader.hpp"
#include "datasets/core/search_path.hpp"
#include "host/data/pipeline/error.hpp"
#include "host/data/pipeline/training_data.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <thread>
#include <string>
#include <vector>

using namespace megaswift;
using config::Command;
using nlohmann::json;

namespace {

data::TrainingData build(Command command, std::vector<std::string> flags) {
  flags.insert(flags.begin(), {"--model", test::qwen_model_dir().string()});
  return data::build_training_data(test::parse_args(command, flags), test::plugins());
}

data::TrainingData build_sft(std::vector<std::string> flags) { return build(Command::sft, std::move(flags)); }

void check_same(const data::EncodedSample& a, const data::EncodedSample& b) {
  CHECK(a.input_ids == b.input_ids);
  CHECK(a.labels == b.labels);
  CHECK(a.loss_scale == b.loss_scale);
}

std::vector<data::EncodedSample> all_samples(const data::EncodedDataset& d) {
  std::vector<data::EncodedSample> out;
  for (std::size_t i = 0; i < d.size(); ++i) out.push_back(d.get(i));
  return out;
}

json chat(const std::string& user, const std::string& assistant) {
  return {{"messages", {{{"role", "user"}, {"content", user}}, {{"role", "assistant"}, {"content", assistant}}}}};
}

std::string long_answer() {
  std::string s;
  for (int i = 0; i < 40; ++i) s += "The quick brown fox jumps over the lazy dog. ";
  return s;
}

// Rows 1 and 4 are far longer than 64 tokens; the others are short.
std::vector<json> rows_with_long_ones() {
  return {chat("Hi", "Hello!"), chat("Tell me a story.", long_answer()), chat("2+2?", "4"),
          chat("Capital of France?", "Paris."), chat("And again?", long_answer()), chat("Bye", "Goodbye!")};
}

}  // namespace

TEST_CASE("eager and lazy tokenization give the same samples, index by index") {
  const std::vector<std::string> flags = {"--dataset", "megaswift/alpaca-mini-en#40", "megaswift/alpaca-mini-zh#20",
                                          "--split_dataset_ratio", "0.1"};
  data::TrainingData eager = build_sft(flags);
  std::vector<std::string> lazy_flags = flags;
  lazy_flags.insert(lazy_flags.end(), {"--lazy_tokenize", "true"});
  data::TrainingData lazy = build_sft(lazy_flags);

  CHECK_FALSE(eager.train->lazy());
  CHECK(lazy.train->lazy());
  REQUIRE(eager.train->size() == 54);  // 36 + 18 after holding out max(floor(N * 0.1), 1) of each
  REQUIRE(lazy.train->size() == eager.train->size());
  REQUIRE(lazy.val->size() == eager.val->size());
  CHECK(eager.val->size() == 6);
  for (std::size_t i = 0; i < eager.train->size(); ++i) check_same(eager.train->get(i), lazy.train->get(i));
  for (std::size_t i = 0; i < eager.val->size(); ++i) check_same(eager.val->get(i), lazy.val->get(i));

  // Lazy mode knows the rows up front; after one pass it knows what eager mode knew at once.
  CHECK(lazy.summary.train.rows == 54);
  CHECK(lazy.summary.train.rows_encoded == 0);
  const auto* lazy_train = dynamic_cast<const data::LazyDataset*>(lazy.train.get());
  REQUIRE(lazy_train != nullptr);
  data::SplitSummary seen = lazy_train->observed();
  CHECK(seen.rows_encoded == 54);
  CHECK(seen.tokens == eager.summary.train.tokens);
  CHECK(seen.label_tokens == eager.summary.train.label_tokens);
  CHECK(seen.median_length == eager.summary.train.median_length);
  CHECK_THROWS_AS(lazy.train->get(54), std::out_of_range);
}

TEST_CASE("samples and summary do not depend on the number of tokenizing threads") {
  // 300 rows: several chunks of work, so three threads really share them.
  const std::vector<std::string> flags = {"--dataset", "megaswift/alpaca-mini-en#300", "--split_dataset_ratio", "0",
                                          "--max_length", "80"};
  std::vector<std::string> one = flags, three = flags;
  one.insert(one.end(), {"--dataset_num_proc", "1"});
  three.insert(three.end(), {"--dataset_num_proc", "3"});
  data::TrainingData a = build_sft(one);
  data::TrainingData b = build_sft(three);
  REQUIRE(a.train->size() == b.train->size());
  CHECK(a.train->size() > 0);
  for (std::size_t i = 0; i < a.train->size(); ++i) check_same(a.train->get(i), b.train->get(i));
  json ja = data::to_json(a.summary), jb = data::to_json(b.summary);
  CHECK(jb["dataset_num_proc"] == 3);
  ja.erase("dataset_num_proc");
  jb.erase("dataset_num_proc");
  CHECK(ja == jb);
}

TEST_CASE("split_dataset_ratio holds out the rows the datasets library picks, and --val_dataset turns it off") {
  datasets::LoadOptions opt;
  opt.search_dirs = datasets::default_search_dirs();
  opt.seed = 42;
  datasets::TrainValRows expected = datasets::load_train_val({"megaswift/alpaca-mini-en#100"}, {}, 0.25, opt);
  REQUIRE(expected.val.size() == 25);

  data::TrainingData d = build_sft({"--dataset", "megaswift/alpaca-mini-en#100", "--split_dataset_ratio", "0.25"});
  REQUIRE(d.train->size() == 75);
  REQUIRE(d.val->size() == 25);
  const auto& encoder = d.encoding->encoder();
  for (std::size_t i = 0; i < 75; ++i)
    check_same(d.train->get(i), encoder.encode(data::conversation_json(expected.train[i])).samples.at(0));
  for (std::size_t i = 0; i < 25; ++i)
    check_same(d.val->get(i), encoder.encode(data::conversation_json(expected.val[i])).samples.at(0));
  CHECK(d.summary.val.rows == 25);
  CHECK(d.summary.datasets.at(0).val_rows == 25);

  // --val_dataset: validation is that dataset whole (with its #N); the default ratio is not applied to --dataset.
  data::TrainingData v = build_sft({"--dataset", "megaswift/alpaca-mini-en#100", "--val_dataset",
                                    "megaswift/alpaca-mini-zh#7"});
  CHECK(v.train->size() == 100);
  CHECK(v.val->size() == 7);
  REQUIRE(v.summary.datasets.size() == 2);
  CHECK(v.summary.datasets[1].spec == "megaswift/alpaca-mini-zh#7");
  CHECK(v.summary.datasets[1].val_rows == 7);
}

TEST_CASE("rows longer than --max_length are dropped and counted with truncation_strategy delete") {
  auto file = test::write_jsonl("long_rows.jsonl", rows_with_long_ones());
  data::TrainingData d = build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length", "64"});
  CHECK(d.train->size() == 4);
  CHECK(d.summary.train.rows == 6);
  CHECK(d.summary.train.dropped_too_long == 2);
  CHECK(d.summary.train.rows_kept == 4);
  REQUIRE(d.summary.train.too_long.size() == 1);
  CHECK(d.summary.train.too_long.begin()->second.count == 2);
  CHECK(d.summary.train.too_long.begin()->second.example.find("row 1") != std::string::npos);
  for (std::size_t i = 0; i < d.train->size(); ++i) CHECK(d.train->get(i).size() <= 64);

  // left keeps them, cut to the last 64 tokens.
  data::TrainingData left = build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length", "64",
                                       "--truncation_strategy", "left"});
  CHECK(left.train->size() == 6);
  CHECK(left.summary.train.truncated == 2);
  CHECK(left.summary.train.dropped_too_long == 0);
  CHECK(left.train->get(1).size() == 64);
}

TEST_CASE("lazy tokenization skips an unusable row to the next usable one and counts it once") {
  auto file = test::write_jsonl("long_rows_lazy.jsonl", rows_with_long_ones());
  const std::vector<std::string> flags = {"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length", "64"};
  data::TrainingData eager = build_sft(flags);
  std::vector<std::string> lazy_flags = flags;
  lazy_flags.insert(lazy_flags.end(), {"--lazy_tokenize", "true"});
  data::TrainingData lazy = build_sft(lazy_flags);
  REQUIRE(eager.train->size() == 4);  // rows 0, 2, 3, 5
  REQUIRE(lazy.train->size() == 6);   // every row: which ones are unusable is not known up front
  const auto* dataset = dynamic_cast<const data::LazyDataset*>(lazy.train.get());
  REQUIRE(dataset != nullptr);

  check_same(lazy.train->get(1), eager.train->get(1));  // row 1 is too long: row 2 takes its place
  check_same(lazy.train->get(4), eager.train->get(3));  // row 4 -> row 5
  CHECK(dataset->observed().dropped_too_long == 2);
  check_same(lazy.train->get(1), eager.train->get(1));  // again: same answer, counted once
  CHECK(dataset->observed().dropped_too_long == 2);
  check_same(lazy.train->get(0), eager.train->get(0));
  check_same(lazy.train->get(3), eager.train->get(2));
  check_same(lazy.train->get(5), eager.train->get(3));
  data::SplitSummary seen = dataset->observed();
  CHECK(seen.rows_encoded == 6);
  CHECK(seen.rows_kept == 4);
  CHECK(seen.tokens == eager.summary.train.tokens);
}

TEST_CASE("a lazy row at the end that is unusable wraps around to the first usable row") {
  std::vector<json> rows = {chat("Hi", "Hello!"), chat("2+2?", "4"), chat("Story?", long_answer())};
  auto file = test::write_jsonl("wrap.jsonl", rows);
  data::TrainingData lazy = build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length",
                                       "64", "--lazy_tokenize", "true"});
  data::TrainingData eager = build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length", "64"});
  check_same(lazy.train->get(2), eager.train->get(0));
}

TEST_CASE("summary numbers equal the sums over the encoded rows") {
  const std::vector<json> rows = {
      chat("Hi", "Hello!"),
      chat("Tell me a story.", long_answer()),                                   // too long
      {{"messages", {{{"role", "user"}, {"content", "no answer"}}}}},           // the loader drops it
      {{"messages",
        {{{"role", "user"}, {"content", "weather?"}},
         {{"role", "tool"}, {"content", "sunny"}},
         {{"role", "assistant"}, {"content", "Sunny."}}}}},                     // the template refuses results with no call
      {{"messages",
        {{{"role", "system"}, {"content", "Be brief."}},
         {{"role", "user"}, {"content", "Capital of Japan?"}},
         {{"role", "assistant"}, {"content", "Tokyo."}},
         {{"role", "user"}, {"content", "And of Italy?"}},
         {{"role", "assistant"}, {"content", "Rome."}}}}},
      chat("2+2?", "4"),
  };
  auto file = test::write_jsonl("summary_rows.jsonl", rows);
  data::TrainingData d = build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length", "64"});

  // Expected, from encoding the kept rows by hand.
  const auto& encoder = d.encoding->encoder();
  std::vector<std::size_t> lengths;
  std::size_t tokens = 0, label_tokens = 0;
  for (std::size_t i : {0, 4, 5}) {
    data::EncodeResult r = encoder.encode(rows[i].dump());
    REQUIRE(r.outcome == data::EncodeResult::Outcome::Ok);
    const data::EncodedSample& s = r.samples.at(0);
    lengths.push_back(s.size());
    tokens += s.size();
    label_tokens += static_cast<std::size_t>(std::count_if(s.labels.begin(), s.labels.end(), [](int l) { return l != -100; }));
  }
  std::sort(lengths.begin(), lengths.end());

  const data::SplitSummary& t = d.summary.train;
  REQUIRE(d.summary.datasets.size() == 1);
  CHECK(d.summary.datasets[0].rows_read == 6);
  CHECK(d.summary.datasets[0].rows_usable == 5);
  REQUIRE(d.summary.datasets[0].malformed.size() == 1);
  CHECK(d.summary.datasets[0].malformed.begin()->second.count == 1);
  CHECK(t.rows == 5);
  CHECK(t.rows_encoded == 5);
  CHECK(t.rows_kept == 3);
  CHECK(t.samples == 3);
  CHECK(t.dropped_too_long == 1);
  REQUIRE(t.malformed.size() == 1);
  CHECK(t.malformed.begin()->first.find("tool") != std::string::npos);
  CHECK(t.malformed.begin()->second.example.find("row 3") != std::string::npos);
  CHECK(t.dropped() == 2);
  CHECK(t.tokens == tokens);
  CHECK(t.label_tokens == label_tokens);
  CHECK(t.min_length == lengths.front());
  CHECK(t.max_length == lengths.back());
  CHECK(t.median_length == doctest::Approx(static_cast<double>(lengths[1])));
  CHECK(t.mean_length == doctest::Approx(static_cast<double>(tokens) / 3.0));
  CHECK(d.train->size() == 3);

  json j = data::to_json(d.summary);
  CHECK(j["template"] == "qwen2_5");
  CHECK(j["max_length"] == 64);
  CHECK(j["train"]["tokens"] == tokens);
  CHECK(j["train"]["label_tokens"] == label_tokens);
  CHECK(j["train"]["dropped_too_long"] == 1);
  CHECK(j["datasets"][0]["rows_read"] == 6);
  CHECK(j["val"]["rows"] == 0);
}

TEST_CASE("--max_length unset limits samples to the model's max_model_len from config.json") {
  auto dir = test::make_model_dir("short-context-qwen", {{"model_type", "qwen2"}, {"max_position_embeddings", 64}});
  auto file = test::write_jsonl("long_rows_ctx.jsonl", rows_with_long_ones());
  data::TrainingData d = data::build_training_data(
      test::parse_args(Command::sft, {"--model", dir.string(), "--dataset", file.string(), "--split_dataset_ratio", "0"}),
      test::plugins());
  REQUIRE(d.summary.max_length.has_value());
  CHECK(*d.summary.max_length == 64);
  CHECK(d.summary.train.dropped_too_long == 2);
}

TEST_CASE("self-cognition with --model_name and --model_author is encoded with no placeholder left") {
  data::TrainingData d = build_sft({"--dataset", "swift/self-cognition#20", "--split_dataset_ratio", "0",
                                    "--model_name", "小黄", "Xiao Huang", "--model_author", "魔搭", "ModelScope"});
  REQUIRE(d.train->size() == 20);
  const auto& tok = d.encoding->tokenizer();
  std::size_t named = 0;
  for (const data::EncodedSample& s : all_samples(*d.train)) {
    const std::string text = tok.decode(s.input_ids);
    CHECK(text.find("{{") == std::string::npos);
    CHECK(text.find("}}") == std::string::npos);
    CHECK(text.rfind("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud.", 0) == 0);
    std::vector<int32_t> trained;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s.labels[i] != -100) trained.push_back(s.input_ids[i]);
    const std::string answer = tok.decode(trained);
    if (answer.find("Xiao Huang") != std::string::npos || answer.find("小黄") != std::string::npos ||
        answer.find("ModelScope") != std::string::npos || answer.find("魔搭") != std::string::npos)
      ++named;
  }
  CHECK(named > 10);
}

TEST_CASE("--system replaces the template's default system prompt") {
  data::TrainingData d = build_sft({"--dataset", "megaswift/alpaca-mini-en#3", "--split_dataset_ratio", "0",
                                    "--system", "You are a helpful assistant."});
  const std::string text = d.encoding->tokenizer().decode(d.train->get(0).input_ids);
  CHECK(text.rfind("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n", 0) == 0);
}

TEST_CASE("megatron pt encodes plain text with loss on every token and the tokenizer's eos at the end") {
  data::TrainingData d = build(Command::pt, {"--dataset", "megaswift/pt-corpus#8", "--split_dataset_ratio", "0"});
  CHECK(d.summary.template_name == "generative");
  REQUIRE(d.train->size() == 8);
  const int32_t eos = d.encoding->tokenizer().token_to_id("<|im_end|>");
  REQUIRE(eos >= 0);
  for (const data::EncodedSample& s : all_samples(*d.train)) {
    REQUIRE(s.size() > 1);
    CHECK(s.labels[0] == -100);
    CHECK(std::equal(s.labels.begin() + 1, s.labels.end(), s.input_ids.begin() + 1));
    CHECK(s.input_ids.back() == eos);
  }
  CHECK(d.summary.train.label_tokens == d.summary.train.tokens - 8);
}

TEST_CASE("lazy samples read from several threads at once equal the eager ones and each row is counted once") {
  std::vector<json> rows;
  for (int i = 0; i < 40; ++i) {
    // Appended, not "Q" + std::to_string(i): GCC 12 warns (-Wrestrict) on that falsely.
    std::string q = "Q", a = "A";
    q += std::to_string(i);
    a += std::to_string(i);
    rows.push_back(i % 7 == 3 ? chat("Long?", long_answer()) : chat(q, a));
  }
  auto file = test::write_jsonl("threads_lazy.jsonl", rows);
  const std::vector<std::string> flags = {"--dataset", file.string(), "--split_dataset_ratio", "0", "--max_length", "64"};
  data::TrainingData eager = build_sft(flags);
  std::vector<std::string> lazy_flags = flags;
  lazy_flags.insert(lazy_flags.end(), {"--lazy_tokenize", "true"});
  data::TrainingData lazy = build_sft(lazy_flags);
  REQUIRE(lazy.train->size() == 40);

  // Each thread reads every index, starting at a different one, into its own vector.
  std::vector<std::vector<data::EncodedSample>> got(4, std::vector<data::EncodedSample>(40));
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (std::size_t k = 0; k < 40; ++k) {
        const std::size_t i = (k + 10 * t) % 40;
        got[t][i] = lazy.train->get(i);
      }
    });
  for (auto& th : threads) th.join();
  // Lazy index i gives the first usable row j >= i; eager holds it at j minus the unusable rows before it.
  std::vector<data::EncodedSample> expected;
  for (std::size_t i = 0; i < 40; ++i) {
    const std::size_t j = i % 7 == 3 ? i + 1 : i;
    expected.push_back(eager.train->get(j - (j + 3) / 7));
  }
  for (std::size_t t = 0; t < 4; ++t)
    for (std::size_t i = 0; i < 40; ++i) check_same(got[t][i], expected[i]);
  const auto* dataset = dynamic_cast<const data::LazyDataset*>(lazy.train.get());
  REQUIRE(dataset != nullptr);
  data::SplitSummary seen = dataset->observed();
  CHECK(seen.rows_encoded == 40);
  CHECK(seen.dropped_too_long == eager.summary.train.dropped_too_long);
  CHECK(seen.dropped_too_long == 6);  // rows 3, 10, 17, 24, 31, 38
  CHECK(seen.tokens == eager.summary.train.tokens);
  CHECK(seen.median_length == eager.summary.train.median_length);
}

namespace {

const std::string kWeatherCall = R"({"name": "get_weather", "arguments": {"city": "Paris"}})";

// The trained tokens of a sample, decoded: what the loss is computed on.
std::string trained_text(const data::TrainingData& d, const data::EncodedSample& s) {
  std::vector<int32_t> ids;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s.labels[i] != -100) ids.push_back(s.input_ids[i]);
  return d.encoding->tokenizer().decode(ids);
}

data::EncodedSample only_sample(const data::TrainingData& d) {
  REQUIRE(d.train->size() == 1);
  return d.train->get(0);
}

}  // namespace

TEST_CASE("an agent-format row (tool_call, tool_response) reaches the template with its roles and trains on the call") {
  json row = {{"messages",
               {{{"role", "user"}, {"content", "Weather in Paris?"}},
                {{"role", "tool_call"}, {"content", kWeatherCall}},
                {{"role", "tool_response"}, {"content", "{\"temp\": 21}"}},
                {{"role", "assistant"}, {"content", "It is 21 degrees."}}}}};
  auto file = test::write_jsonl("agent_messages.jsonl", {row});
  data::TrainingData d = build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--system", ""});
  const data::EncodedSample s = only_sample(d);
  const std::string call = "<tool_call>\n" + kWeatherCall + "\n</tool_call>";
  CHECK(d.encoding->tokenizer().decode(s.input_ids) ==
        "<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n" + call +
            "<|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\nIt is 21 degrees.<|im_end|>\n");
  // Loss on the call and the answer (each with its end of turn), none on the question or the tool's result.
  CHECK(trained_text(d, s) == call + "<|im_end|>\nIt is 21 degrees.<|im_end|>\n");

  SUBCASE("the 'tool' alias and ShareGPT's function_call/observation give the same sample") {
    json alias = row;
    alias["messages"][2]["role"] = "tool";
    json sharegpt = {{"conversations",
                      {{{"from", "human"}, {"value", "Weather in Paris?"}},
                       {{"from", "function_call"}, {"value", kWeatherCall}},
                       {{"from", "observation"}, {"value", "{\"temp\": 21}"}},
                       {{"from", "gpt"}, {"value", "It is 21 degrees."}}}}};
    for (const auto& [name, other] : {std::pair{"agent_alias.jsonl", alias}, std::pair{"agent_sharegpt.jsonl", sharegpt}}) {
      CAPTURE(name);
      auto f = test::write_jsonl(name, {other});
      data::TrainingData o = build_sft({"--dataset", f.string(), "--split_dataset_ratio", "0", "--system", ""});
      check_same(only_sample(o), s);
    }
  }
}

TEST_CASE("a template without an agent format drops tool_call rows as malformed, naming the role") {
  json row = {{"messages",
               {{{"role", "user"}, {"content", "Weather in Paris?"}},
                {{"role", "tool_call"}, {"content", kWeatherCall}},
                {{"role", "tool_response"}, {"content", "21"}},
                {{"role", "assistant"}, {"content", "21 degrees."}}}}};
  auto file = test::write_jsonl("agent_default_template.jsonl", {row, chat("Hi", "Hello!")});
  data::TrainingData d =
      build_sft({"--dataset", file.string(), "--split_dataset_ratio", "0", "--template", "default"});
  CHECK(d.summary.train.rows_kept == 1);
  REQUIRE(d.summary.train.malformed.size() == 1);
  CHECK(d.summary.train.malformed.begin()->second.example.find("tool_call") != std::string::npos);
}
