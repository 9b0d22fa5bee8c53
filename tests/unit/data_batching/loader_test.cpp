#include "host/data/batching/sample_order.hpp"
#include "synthetic.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

using namespace megaswift::data;
using namespace megaswift::data::testing;

namespace {

LoaderOptions options(int64_t micro, int64_t global, int workers = 0) {
  LoaderOptions o;
  o.micro_batch_size = micro;
  o.global_batch_size = global;
  o.num_workers = workers;
  return o;
}

// Every row of every micro-batch, compared token for token.
void check_same(const std::vector<MicroBatch>& a, const std::vector<MicroBatch>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    REQUIRE(a[i].rows.size() == b[i].rows.size());
    CHECK(a[i].padding_free == b[i].padding_free);
    for (std::size_t r = 0; r < a[i].rows.size(); ++r) {
      CHECK(a[i].rows[r].input_ids == b[i].rows[r].input_ids);
      CHECK(a[i].rows[r].labels == b[i].rows[r].labels);
      CHECK(a[i].rows[r].seq_boundaries == b[i].rows[r].seq_boundaries);
    }
  }
}

}  // namespace

TEST_CASE("a global batch is global / (micro x dp) micro-batches of micro samples each") {
  LoaderOptions o = options(2, 12);
  o.dp_size = 3;
  DataLoader loader(split(50), o);
  CHECK(loader.num_microbatches() == 2);
  const auto step = loader.next_global_batch();
  REQUIRE(step.size() == 2);
  for (const MicroBatch& mb : step) {
    CHECK(mb.rows.size() == 2);
    CHECK(mb.padding_free);
  }
  CHECK(loader.consumed_samples() == 12);
}

TEST_CASE("the batches do not depend on worker threads or the prefetch depth") {
  const auto data = split(37);
  DataLoader reference(data, options(2, 8, 0));
  std::vector<std::vector<MicroBatch>> expected;
  for (int s = 0; s < 12; ++s) expected.push_back(reference.next_global_batch());
  for (int workers : {1, 3, 8}) {
    for (int64_t prefetch : {1, 2, 5}) {
      LoaderOptions o = options(2, 8, workers);
      o.prefetch_global_batches = prefetch;
      DataLoader loader(data, o);
      INFO("workers " << workers << ", prefetch " << prefetch);
      for (int s = 0; s < 12; ++s) check_same(loader.next_global_batch(), expected[static_cast<std::size_t>(s)]);
    }
  }
}

TEST_CASE("cyclic order: each epoch is the permutation seeded by seed + epoch, the last partial batch carrying over") {
  // 10 samples, 4 per step: step 3 takes 2 samples of epoch 0 and 2 of epoch 1.
  LoaderOptions o = options(1, 4, 2);
  o.seed = 42;
  DataLoader loader(split(10), o);
  CHECK(loader.samples_per_epoch() == 10);
  std::vector<int64_t> expected = seeded_permutation(10, 42);
  const auto next = seeded_permutation(10, 43);
  expected.insert(expected.end(), next.begin(), next.end());
  CHECK(stream(loader, 5) == expected);
  CHECK(loader.consumed_samples() == 20);
  CHECK(loader.epoch() == 2);
  CHECK(loader.state() == nlohmann::json{{"consumed_samples", 20}, {"epoch", 2}, {"seed", 42}, {"dataloader_type", "cyclic"}});
}

TEST_CASE("a different seed gives a different order over the same samples") {
  LoaderOptions a = options(1, 10), b = options(1, 10);
  b.seed = 7;
  DataLoader la(split(10), a), lb(split(10), b);
  auto sa = stream(la, 1), sb = stream(lb, 1);
  CHECK(sa != sb);
  std::sort(sa.begin(), sa.end());
  std::sort(sb.begin(), sb.end());
  CHECK(sa == sb);
}

TEST_CASE("single and external read the dataset in order, epochs one after the other") {
  for (const char* type : {"single", "external"}) {
    LoaderOptions o = options(2, 4, 2);
    o.dataloader_type = type;
    DataLoader loader(split(6), o);
    CHECK(stream(loader, 3) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
    CHECK(loader.epoch() == 2);
  }
}

TEST_CASE("a loader resumed at consumed_samples yields what the first loader yields after them") {
  const auto data = split(23);
  for (int workers : {0, 3}) {
    for (int64_t consumed : {int64_t{0}, int64_t{8}, int64_t{24}, int64_t{5}, int64_t{47}}) {
      INFO("workers " << workers << ", consumed " << consumed);
      // The uninterrupted run, one sample per step, so any consumed count is a step boundary.
      DataLoader full(data, options(1, 1, workers));
      const auto all = stream(full, static_cast<int>(consumed) + 16);
      LoaderOptions o = options(2, 8, workers);
      o.consumed_samples = consumed;
      DataLoader resumed(data, o);
      CHECK(resumed.consumed_samples() == consumed);
      CHECK(resumed.epoch() == consumed / 23);
      CHECK(stream(resumed, 2) == std::vector<int64_t>(all.begin() + consumed, all.begin() + consumed + 16));
      CHECK(resumed.consumed_samples() == consumed + 16);
    }
  }
  // Continuing a loader and resuming a new one at its state give the same batches.
  DataLoader first(data, options(2, 8, 2));
  stream(first, 3);
  LoaderOptions o = options(2, 8, 2);
  o.consumed_samples = first.state()["consumed_samples"].get<int64_t>();
  DataLoader second(data, o);
  for (int s = 0; s < 4; ++s) check_same(first.next_global_batch(), second.next_global_batch());
}

TEST_CASE("data-parallel ranks take contiguous slices whose union is the dp=1 global batch") {
  const auto data = split(29);
  DataLoader single_rank(data, options(2, 8, 2));
  std::vector<std::unique_ptr<DataLoader>> ranks;
  for (int64_t r = 0; r < 2; ++r) {
    LoaderOptions o = options(2, 8, 2);
    o.dp_size = 2;
    o.dp_rank = r;
    ranks.push_back(std::make_unique<DataLoader>(data, o));
    CHECK(ranks.back()->num_microbatches() == 2);
  }
  CHECK(single_rank.num_microbatches() == 4);
  for (int s = 0; s < 6; ++s) {
    const auto whole = samples_of(single_rank.next_global_batch());
    std::vector<int64_t> joined;
    for (auto& rank : ranks)
      for (int64_t id : samples_of(rank->next_global_batch())) joined.push_back(id);
    CHECK(joined == whole);
  }
  CHECK(ranks[0]->consumed_samples() == single_rank.consumed_samples());
}

TEST_CASE("a lazy dataset is read concurrently and gives the batches of the eager one") {
  auto lazy = std::make_shared<const GeneratedDataset>(41);
  std::vector<EncodedSample> copies;
  for (std::size_t i = 0; i < lazy->size(); ++i) copies.push_back(lazy->get(i));
  auto eager = std::make_shared<const EagerDataset>(std::move(copies));
  DataLoader a(lazy, options(4, 16, 4)), b(eager, options(4, 16, 0));
  for (int s = 0; s < 6; ++s) check_same(a.next_global_batch(), b.next_global_batch());
}

TEST_CASE("an exception in a worker reaches the caller at the batch that failed, and again on the next call") {
  // Dataset order (single): sample 13 is in the fourth step of 4 samples.
  for (int workers : {0, 3}) {
    INFO("workers " << workers);
    auto data = std::make_shared<const GeneratedDataset>(20, /*throw_at=*/13);
    LoaderOptions o = options(2, 4, workers);
    o.dataloader_type = "single";
    DataLoader loader(data, o);
    for (int s = 0; s < 3; ++s) CHECK_NOTHROW(loader.next_global_batch());
    CHECK_THROWS_WITH_AS(loader.next_global_batch(), "tokenizing sample failed on purpose", std::runtime_error);
    CHECK_THROWS_AS(loader.next_global_batch(), std::runtime_error);
    CHECK(loader.consumed_samples() == 12);
  }
}

TEST_CASE("destroying a loader with batches in flight stops its workers") {
  auto data = std::make_shared<const GeneratedDataset>(1000);
  LoaderOptions o = options(8, 64, 4);
  o.prefetch_global_batches = 4;
  {
    DataLoader loader(data, o);
    loader.next_global_batch();
  }
  // At most the prefetch window (4 steps beyond the one returned) was read.
  CHECK(data->calls() <= 5 * 64);
}

TEST_CASE("eval reads the validation split in order, cycling, and continues across evaluations") {
  LoaderOptions o = options(2, 4, 2);
  o.seed = 1234;
  o.consumed_samples = 99;  // training's resume point: not the eval loader's business
  EvalLoader eval(split(6), o);
  CHECK(eval.num_microbatches() == 2);
  CHECK(samples_of(eval.next_global_batch()) == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(samples_of(eval.next_global_batch()) == std::vector<int64_t>{4, 5, 0, 1});
  CHECK(eval.consumed_samples() == 8);
  // A split smaller than one global batch repeats within it.
  EvalLoader tiny(split(3), options(1, 4));
  CHECK(samples_of(tiny.next_global_batch()) == std::vector<int64_t>{0, 1, 2, 0});
}

TEST_CASE("padding_free false gives rows for the engine to pad, unpadded") {
  LoaderOptions o = options(3, 3);
  o.padding_free = false;
  DataLoader loader(split(9), o);
  const auto step = loader.next_global_batch();
  REQUIRE(step.size() == 1);
  CHECK_FALSE(step[0].padding_free);
  for (const TrainRow& row : step[0].rows) CHECK(row.input_ids.size() == row.labels.size());
}
