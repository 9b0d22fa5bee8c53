#include "host/data/batching/train_rows.hpp"
#include "host/data/pipeline/error.hpp"
#include "synthetic.hpp"

#include <doctest/doctest.h>

using namespace megaswift::data;
using namespace megaswift::data::testing;

TEST_CASE("a row is the tokens but the last and the labels but the first: label t is the token after position t") {
  EncodedSample s;
  s.input_ids = {11, 12, 13, 14, 15};
  s.labels = {-100, -100, 13, 14, 15};
  const TrainRow row = make_row({s});
  CHECK(row.input_ids == std::vector<int64_t>{11, 12, 13, 14});
  CHECK(row.labels == std::vector<int64_t>{-100, 13, 14, 15});
  CHECK(row.seq_boundaries == std::vector<int32_t>{0, 4});
  CHECK(row.loss_scale.empty());
  // Where there is a label, it is the next input token: what the model predicts at t.
  for (std::size_t t = 0; t + 1 < row.input_ids.size(); ++t)
    if (row.labels[t] != -100) CHECK(row.labels[t] == row.input_ids[t + 1]);
}

TEST_CASE("loss weights shift with the labels, and samples without weights get 1 in a weighted packed row") {
  EncodedSample weighted;
  weighted.input_ids = {1, 2, 3};
  weighted.labels = {-100, 2, 3};
  weighted.loss_scale = {0.f, 0.5f, 2.f};
  const EncodedSample plain = sample(7, 3);
  const TrainRow row = make_row({weighted, plain});
  CHECK(row.input_ids == std::vector<int64_t>{1, 2, 7000, 7001});
  CHECK(row.labels == std::vector<int64_t>{2, 3, 7001, 7002});
  CHECK(row.loss_scale == std::vector<float>{0.5f, 2.f, 1.f, 1.f});
  CHECK(row.seq_boundaries == std::vector<int32_t>{0, 2, 4});
}

TEST_CASE("a sample whose labels do not match its tokens is refused with what the encoder must give") {
  EncodedSample bad;
  bad.input_ids = {1, 2, 3};
  bad.labels = {1, 2};
  CHECK_THROWS_AS(make_row({bad}), DataPipelineError);
}

TEST_CASE("trainable needs 2 tokens and a label after the first position") {
  CHECK(trainable(sample(0, 2)));
  CHECK_FALSE(trainable(sample(0, 1, 0)));
  CHECK_FALSE(trainable(sample(0, 4, 4)));
  // Only labels[0] set: the shift drops it, nothing is left to learn.
  EncodedSample first_only = sample(0, 3, 0);
  first_only.labels = {5, -100, -100};
  CHECK_FALSE(trainable(first_only));
}

TEST_CASE("untrainable samples are replaced by the next trainable one in dataset order and counted once") {
  std::vector<EncodedSample> samples;
  for (int32_t i = 0; i < 6; ++i) samples.push_back(sample(i, 4));
  samples[1] = sample(1, 1, 0);  // one token
  samples[2] = sample(2, 5, 5);  // no label
  samples[5] = sample(5, 3, 3);  // no label: wraps to sample 0
  for (int workers : {0, 2}) {
    LoaderOptions o;
    o.micro_batch_size = 2;
    o.global_batch_size = 6;
    o.dataloader_type = "single";
    o.num_workers = workers;
    DataLoader loader(std::make_shared<const EagerDataset>(samples), o);
    CHECK(samples_of(loader.next_global_batch()) == std::vector<int64_t>{0, 3, 3, 3, 4, 0});
    CHECK(samples_of(loader.next_global_batch()) == std::vector<int64_t>{0, 3, 3, 3, 4, 0});
    CHECK(loader.skipped_samples() == 3);
    CHECK(loader.samples_per_epoch() == 6);
  }
}

TEST_CASE("a split where no sample can train is refused") {
  std::vector<EncodedSample> samples{sample(0, 1, 0), sample(1, 3, 3)};
  LoaderOptions o;
  o.micro_batch_size = 1;
  o.global_batch_size = 2;
  o.num_workers = 0;
  DataLoader loader(std::make_shared<const EagerDataset>(samples), o);
  CHECK_THROWS_AS(loader.next_global_batch(), DataPipelineError);
}

TEST_CASE("a micro-batch counts its tokens and its tokens with a label") {
  MicroBatch mb;
  mb.rows.push_back(make_row({sample(0, 5, 2)}));  // 4 tokens, labels at 1..3 -> 3
  mb.rows.push_back(make_row({sample(1, 3, 1)}));  // 2 tokens, 2 labels
  CHECK(mb.num_tokens() == 6);
  CHECK(mb.num_loss_tokens() == 5);
}
