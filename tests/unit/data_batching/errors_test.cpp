#include "host/data/pipeline/error.hpp"
#include "synthetic.hpp"
#include "thrown_message.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace megaswift::data;
using namespace megaswift::data::testing;

namespace {

// The message of what `f` throws as E, or "" when it throws nothing.
template <class E, class F>
std::string message_of(F&& f) { return megaswift::testing::thrown_message<E>(std::forward<F>(f), ""); }

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

LoaderOptions options(int64_t micro, int64_t global, int64_t dp = 1) {
  LoaderOptions o;
  o.micro_batch_size = micro;
  o.global_batch_size = global;
  o.dp_size = dp;
  o.num_workers = 0;
  return o;
}

}  // namespace

TEST_CASE("a global batch size not divisible by micro x dp names the flags and the nearest valid values") {
  const std::string m = message_of<std::invalid_argument>([] { DataLoader(split(100), options(4, 20, 2)); });
  INFO(m);
  CHECK(has(m, "--global_batch_size 20"));
  CHECK(has(m, "--micro_batch_size 4"));
  CHECK(has(m, "data-parallel size 2"));
  CHECK(has(m, "use --global_batch_size 16 or 24"));
  // Below one micro-batch per rank, the only fix upward is micro x dp itself.
  const std::string small = message_of<std::invalid_argument>([] { DataLoader(split(100), options(4, 3, 2)); });
  CHECK(has(small, "use --global_batch_size 8"));
}

TEST_CASE("an empty split is refused, naming the split and the flags that fill it") {
  auto empty = std::make_shared<const EagerDataset>(std::vector<EncodedSample>{});
  const std::string m = message_of<DataPipelineError>([&] { DataLoader(empty, options(1, 1)); });
  CHECK(has(m, "training split has no samples"));
  const std::string e = message_of<DataPipelineError>([&] { EvalLoader(empty, options(1, 1)); });
  CHECK(has(e, "validation split"));
  CHECK(has(e, "--val_dataset"));
}

TEST_CASE("single on a split smaller than one global batch says so, while cyclic repeats samples instead") {
  LoaderOptions o = options(1, 16);
  o.dataloader_type = "single";
  const std::string m = message_of<DataPipelineError>([&] { DataLoader(split(10), o); });
  INFO(m);
  CHECK(has(m, "10 samples, fewer than one global batch (--global_batch_size 16)"));
  CHECK(has(m, "at most 10"));
  CHECK(has(m, "--dataloader_type cyclic"));
  DataLoader cyclic(split(10), options(1, 16));
  const auto ids = samples_of(cyclic.next_global_batch());
  CHECK(ids.size() == 16);
}

TEST_CASE("iters_per_epoch is whole global batches per epoch and refuses an epoch smaller than one") {
  CHECK(DataLoader::iters_per_epoch(200, 16) == 12);
  CHECK(DataLoader::iters_per_epoch(16, 16) == 1);
  const std::string m = message_of<std::invalid_argument>([] { DataLoader::iters_per_epoch(10, 16); });
  CHECK(has(m, "--num_train_epochs"));
  CHECK(has(m, "--train_iters"));
}

TEST_CASE("bad options are refused with the flag to fix") {
  LoaderOptions o = options(1, 4);
  o.dataloader_type = "random";
  CHECK(has(message_of<std::invalid_argument>([&] { DataLoader(split(10), o); }), "--dataloader_type 'random'"));
  o = options(1, 4);
  o.dp_rank = 2;
  o.dp_size = 2;
  CHECK(has(message_of<std::invalid_argument>([&] { DataLoader(split(10), o); }), "rank 2"));
  o = options(0, 4);
  CHECK(has(message_of<std::invalid_argument>([&] { DataLoader(split(10), o); }), "--micro_batch_size"));
  o = options(1, 4);
  o.packing = true;
  CHECK(has(message_of<std::invalid_argument>([&] { DataLoader(split(10), o); }), "--max_length"));
}

TEST_CASE("packing refuses a sample longer than a row, naming it and --max_length") {
  LoaderOptions o = options(1, 1);
  o.packing = true;
  o.max_length = 8;
  std::vector<EncodedSample> samples{sample(0, 5), sample(1, 10), sample(2, 9)};
  const std::string m =
      message_of<DataPipelineError>([&] { DataLoader(std::make_shared<const EagerDataset>(samples), o); });
  INFO(m);
  CHECK(has(m, "sample 1 has 10 tokens"));
  CHECK(has(m, "--max_length 8"));
  // 9 tokens fit: 8 after the shift.
  samples.erase(samples.begin() + 1);
  DataLoader fits(std::make_shared<const EagerDataset>(samples), o);
  CHECK(fits.samples_per_epoch() == 2);
}
