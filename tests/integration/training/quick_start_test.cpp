// The seed's quick-start flow on a tiny model, on CPU: swift export --to_mcore, megatron sft --load ... --finetune
// with the self-cognition and instruction data, checkpoints and args.json in Megatron-SWIFT's layout, the TensorBoard
// file and the loss image, and the checkpoint converted back to Hugging Face.
#include "training_fixture.hpp"

#include "host/report/tensorboard_writer.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <numeric>

namespace fs = std::filesystem;
using namespace megaswift::test;

namespace {

double mean(const std::vector<double>& v, size_t begin, size_t end) {
  return std::accumulate(v.begin() + static_cast<std::ptrdiff_t>(begin), v.begin() + static_cast<std::ptrdiff_t>(end), 0.0) /
         static_cast<double>(end - begin);
}

}  // namespace

TEST_CASE("the quick start on CPU: export to mcore, sft --load --finetune trains, saves in Megatron-SWIFT's layout") {
  const fs::path work = scratch() / "quick-start";
  fs::create_directories(work);
  auto r = swift("export --model " + quote(tiny_model()) + " --to_mcore true --output_dir " + quote(work / "mcore"));
  INFO(r.output);
  REQUIRE(r.status == 0);

  r = megatron("sft --load " + quote(work / "mcore") +
               " --dataset 'swift/self-cognition#200' 'megaswift/alpaca-mini-en#200' --model_author swift"
               " --model_name swift-robot --train_iters 40 --micro_batch_size 4 --global_batch_size 8"
               " --recompute_granularity selective --eval_iters 2 --eval_interval 20 --finetune true"
               " --cross_entropy_loss_fusion true --lr 2e-3 --lr_warmup_iters 4 --min_lr 2e-4"
               " --save " + quote(work / "out") + " --save_interval 20 --max_length 512"
               " --system 'You are a helpful assistant.' --num_workers 2 --no_save_optim true --no_save_rng true"
               " --dataset_num_proc 2 --log_interval 10");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("iteration       40/      40") != std::string::npos);
  CHECK(r.output.find("validation loss at iteration 20") != std::string::npos);

  // <save>/v0-<YYYYMMDD-HHMMSS>/ with the checkpoints, the tracker last, the HF files, args.json and the data summary.
  const fs::path run = only_child(work / "out", "v0-");
  CHECK(run.filename().string().size() == std::string("v0-20261202-221400").size());
  CHECK(slurp(run / "latest_checkpointed_iteration.txt") == "40");
  CHECK(fs::is_directory(run / "iter_0000020"));
  CHECK(fs::is_directory(run / "iter_0000040"));
  for (const char* f : {"args.json", "data_summary.json", "config.json", "tokenizer.json", "tokenizer_config.json"})
    CHECK_MESSAGE(fs::exists(run / f), f);
  const auto args = nlohmann::json::parse(slurp(run / "args.json"));
  CHECK(args["save"] == run.string());
  CHECK(args["model_name"] == nlohmann::json::array({"swift-robot"}));
  CHECK(args["train_iters"] == 40);
  const auto summary = nlohmann::json::parse(slurp(run / "data_summary.json"));
  CHECK(summary.contains("train"));

  // TensorBoard scalars read back; the loss falls.
  const fs::path events = only_child(run / "runs", "events.out.tfevents.");
  std::vector<double> loss;
  bool have_lr = false, have_val = false;
  for (const auto& e : megaswift::report::read_scalars(events)) {
    if (e.tag == "lm loss") loss.push_back(e.value);
    have_lr |= e.tag == "learning-rate";
    have_val |= e.tag == "lm loss validation";
  }
  REQUIRE(loss.size() == 40);
  CHECK(have_lr);
  CHECK(have_val);
  CHECK(mean(loss, 35, 40) < 0.8 * mean(loss, 0, 5));  // from ln(151936) = 11.9 towards 8

  // The loss curves as PNG images, as ms-swift draws them.
  const std::string png = slurp(run / "images" / "train_loss.png");
  REQUIRE(png.size() > 1000);
  CHECK(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  CHECK(fs::exists(run / "images" / "eval_loss.png"));

  // The trained checkpoint converts back to Hugging Face, as the quick start's next step does.
  r = swift("export --mcore_model " + quote(run) + " --to_hf true --output_dir " + quote(work / "hf"));
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(fs::exists(work / "hf" / "model.safetensors"));
}

TEST_CASE("sft --load of a converted checkpoint without --finetune says it holds no optimizer state and what to pass") {
  const fs::path work = scratch() / "no-optim";
  fs::create_directories(work);
  REQUIRE(swift("export --model " + quote(tiny_model()) + " --to_mcore true --output_dir " + quote(work / "mcore")).status == 0);
  auto r = megatron("sft --load " + quote(work / "mcore") + " --dataset 'swift/self-cognition#16' --train_iters 2"
                    " --global_batch_size 4 --save " + quote(work / "out"));
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("holds no optimizer state") != std::string::npos);
  CHECK(r.output.find("--finetune true") != std::string::npos);
}

TEST_CASE("--load of a directory with no checkpoint names the tracker file it looked for") {
  auto r = megatron("sft --model " + quote(tiny_model()) + " --load " + quote(scratch() / "nothing-here") +
                    " --dataset 'swift/self-cognition#16' --train_iters 2");
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(r.output.find("latest_checkpointed_iteration.txt") != std::string::npos);
}

TEST_CASE("a run without --train_iters or --num_train_epochs is refused naming both flags") {
  auto r = megatron("pt --model " + quote(tiny_model()) + " --dataset 'megaswift/pt-corpus#64' --global_batch_size 8"
                    " --max_length 128");
  INFO(r.output);
  CHECK(r.status == 2);
  CHECK(r.output.find("pass --train_iters N, or --num_train_epochs N") != std::string::npos);
}

TEST_CASE("--num_train_epochs derives --train_iters from the train split: floor(samples / global batch) per epoch") {
  auto r = megatron("pt --model " + quote(tiny_model()) + " --dataset 'megaswift/pt-corpus#36' --split_dataset_ratio 0"
                    " --global_batch_size 8 --max_length 1024 --num_train_epochs 2 --eval_iters 0 --lr_warmup_iters 1"
                    " --log_interval 1");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("--num_train_epochs 2: --train_iters 8") != std::string::npos);  // 2 x floor(36 / 8)
  CHECK(r.output.find("iteration        8/       8") != std::string::npos);
}

TEST_CASE("--optimizer names a loaded optimizer plugin; another name is refused before any data is read") {
  auto r = megatron("sft --model " + quote(tiny_model()) + " --optimizer lion --dataset 'swift/self-cognition#16'"
                    " --train_iters 1");
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(r.output.find("no optimizer plugin named 'lion' is loaded; available: adam, sgd") != std::string::npos);
  CHECK(r.output.find("tokenizing") == std::string::npos);
}

TEST_CASE("--optimizer sgd trains with the sgd plugin and its momentum_buffer state is saved") {
  const fs::path work = scratch() / "sgd";
  auto r = megatron("sft --model " + quote(tiny_model()) + " --optimizer sgd --sgd_momentum 0.9 --lr 0.5"
                    " --lr_warmup_iters 0 --dataset 'swift/self-cognition#32' --split_dataset_ratio 0 --train_iters 3"
                    " --global_batch_size 8 --micro_batch_size 4 --eval_iters 0 --log_interval 1 --save " +
                    quote(work) + " --add_version false --ckpt_format zarr");
  INFO(r.output);
  REQUIRE(r.status == 0);
  // zarr keeps one folder per tensor: the optimizer state is there under Megatron's key.
  CHECK(fs::exists(work / "iter_0000003" / "optimizer.state.momentum_buffer.embedding.word_embeddings.weight"));
}
