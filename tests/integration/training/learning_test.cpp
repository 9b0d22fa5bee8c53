// The product's promise on a model trained here from nothing: megatron pt from scratch on the bundled corpus lowers
// the loss, and megatron sft after it teaches the self-cognition answers, so a phrasing of "who are you" that is not
// in the data is answered (greedy decoding of the exported HF model, repetition penalty 1.1) with the name and the
// author given to sft.
#include "training_fixture.hpp"

#include "host/core/host_api.hpp"
#include "host/data/pipeline/encoding.hpp"
#include "host/inference/generator.hpp"
#include "host/inference/kv_decoder.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;
using namespace megaswift::test;

namespace {

// The last "lm loss: X" of a log.
double last_loss(const std::string& log) {
  static const std::regex re(R"(lm loss: ([0-9.E+-]+))");
  double v = -1;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
    v = std::stod((*it)[1].str());
  return v;
}
double first_loss(const std::string& log) {
  static const std::regex re(R"(lm loss: ([0-9.E+-]+))");
  std::smatch m;
  return std::regex_search(log, m, re) ? std::stod(m[1].str()) : -1;
}

// The answer swift infer gives with Qwen's usual generation settings made deterministic: greedy decoding with a
// repetition penalty of 1.1 (a tiny model trained briefly otherwise tends to loop on its first phrase), through the
// KV-cache generator, until <|im_end|> or `max_new` tokens.
std::string greedy_answer(const fs::path& hf_dir, const std::string& question, int max_new) {
  megaswift::host::PluginRegistry registry(megaswift::host::host_api());
  registry.load_directories({megaswift::testing::plugin_dir()});
  const megaswift::data::Encoding encoding(registry, hf_dir, "qwen2_5", {});
  const nlohmann::json conversation = {{"messages", {{{"role", "user"}, {"content", question}}}}};
  const std::vector<int32_t> prompt = encoding.encoder().encode_prompt(conversation.dump());
  megaswift::host::ModelRunner runner = megaswift::host::ModelRunner::from_hf_directory(registry, hf_dir);
  megaswift::inference::KvDecoder decoder(runner, 1, static_cast<int64_t>(prompt.size()) + max_new);
  megaswift::inference::GenerationOptions g;
  g.max_new_tokens = max_new;
  g.sampling.repetition_penalty = 1.1;
  g.eos_ids = {encoding.tokenizer().token_to_id("<|im_end|>")};
  std::vector<int64_t> tokens =
      megaswift::inference::generate(decoder, {std::vector<int64_t>(prompt.begin(), prompt.end())}, g)[0].tokens;
  if (!tokens.empty() && tokens.back() == g.eos_ids[0]) tokens.pop_back();
  return encoding.tokenizer().decode(std::vector<int32_t>(tokens.begin(), tokens.end()));
}

}  // namespace

TEST_CASE("pt from scratch lowers the loss, and sft after it answers a held-out 'who are you' with name and author") {
  const fs::path work = scratch() / "learning";
  fs::create_directories(work / "scratch-model");
  // A model directory with a config and the tokenizer but no weights: pt initialises it from --seed.
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(tiny_model() / f, work / "scratch-model" / f);

  auto r = megatron("pt --model " + quote(work / "scratch-model") +
                    " --dataset megaswift/pt-corpus --split_dataset_ratio 0 --train_iters 40 --micro_batch_size 8"
                    " --global_batch_size 16 --lr 3e-3 --min_lr 3e-4 --lr_warmup_iters 4 --max_length 256"
                    " --eval_iters 0 --log_interval 10 --save " + quote(work / "pt") + " --add_version false");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("initialised from scratch with --seed 42") != std::string::npos);
  CHECK(last_loss(r.output) < first_loss(r.output) - 4.0);  // 11.1 -> about 5.2 when written

  r = megatron("sft --load " + quote(work / "pt") + " --finetune true --dataset swift/self-cognition"
               " --model_author swift --model_name swift-robot --split_dataset_ratio 0 --train_iters 300"
               " --micro_batch_size 8 --global_batch_size 8 --lr 1e-2 --min_lr 1e-3 --lr_warmup_iters 5"
               " --weight_decay 0 --max_length 256 --eval_iters 0 --log_interval 50 --save " + quote(work / "sft") +
               " --add_version false --no_save_optim true");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(last_loss(r.output) < first_loss(r.output) - 2.0);

  r = swift("export --mcore_model " + quote(work / "sft") + " --to_hf true --output_dir " + quote(work / "hf"));
  INFO(r.output);
  REQUIRE(r.status == 0);

  // Not a phrasing of the dataset (its English questions include "Who are you?" but not this one).
  const std::string answer = greedy_answer(work / "hf", "Could you tell me who you are?", 40);
  MESSAGE("answer: " << answer);
  CHECK(answer.find("swift-robot") != std::string::npos);
  // The author too, apart from the name.
  static const std::regex author(R"(swift(?!-robot))");
  CHECK(std::regex_search(answer, author));
}
