// Loading: the tracker, the format choice (--ckpt_format, probe scores), the flags that drop optimizer / RNG /
// iteration, and the errors for a missing tracker, an unknown format, a tensor of the wrong shape and a
// checkpoint of another model. A model's parameters round-trip through the stacked layer keys.
#include "core_support.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/checkpoint/load.hpp"
#include "host/checkpoint/model_io.hpp"
#include "host/checkpoint/save.hpp"
#include "host/core/status.hpp"

#include <doctest/doctest.h>

#include <fstream>

namespace fs = std::filesystem;
namespace host = megaswift::host;
using ckpt_test::cpu_view;
using nlohmann::json;

namespace {

json tiny_qwen2(int hidden = 32) {
  return {{"model_type", "qwen2"}, {"hidden_size", hidden}, {"intermediate_size", 48}, {"num_hidden_layers", 2},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"vocab_size", 64}, {"max_position_embeddings", 64},
          {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false}};
}

host::RunnerOptions seeded(uint64_t seed) {
  host::RunnerOptions o;
  o.seed = seed;
  o.num_threads = 1;
  return o;
}

void save_runner(const host::ModelRunner& r, const fs::path& dir, int64_t it, json common_extra = json::object()) {
  json common = host::common_state(it, {{"model_type", "qwen2"}, {"hidden_size", r.info().hidden_size}});
  common.update(common_extra);
  host::SaveRequest req{dir, it, common, nullptr, {}};
  host::save_checkpoint(ckpt_test::rawdir(), req, [&](host::CheckpointFormat::Writer& w) {
    w.write(host::parameter_shards(r));
  });
}

}  // namespace

TEST_CASE("a missing tracker is an error naming it, or a warning and a fresh start") {
  ckpt_test::ScratchDir s("missing");
  const std::string tracker = (s.path / "latest_checkpointed_iteration.txt").string();
  CHECK_THROWS_WITH_AS(host::open_checkpoint(ckpt_test::registry(), s.path, {}), doctest::Contains(tracker.c_str()),
                       host::HostError);
  host::LoadOptions o;
  o.exit_on_missing = false;
  CHECK_FALSE(host::open_checkpoint(ckpt_test::registry(), s.path, o));
}

TEST_CASE("--ckpt_format names a loaded plugin; the error lists the available ones") {
  CHECK_THROWS_WITH_AS(host::require_checkpoint_format(ckpt_test::registry(), "foo"),
                       doctest::Contains("unknown --ckpt_format 'foo': available: "), host::HostError);
  CHECK_THROWS_WITH_AS(host::require_checkpoint_format(ckpt_test::registry(), "foo"), doctest::Contains("rawdir"),
                       host::HostError);
  CHECK(host::require_checkpoint_format(ckpt_test::registry(), "rawdir").name == "rawdir");
}

TEST_CASE("auto-detection takes the highest probe score and lists every score when none recognises the directory") {
  ckpt_test::ScratchDir s("detect");
  std::ofstream(s.path / host::kTrackerFile) << "5";
  fs::create_directories(s.path / "iter_0000005");
  CHECK_THROWS_WITH_AS(host::open_checkpoint(ckpt_test::registry(), s.path, {}),
                       doctest::Contains("probe scores: "), host::HostError);
  CHECK_THROWS_WITH_AS(host::open_checkpoint(ckpt_test::registry(), s.path, {}), doctest::Contains("rawdir 0"),
                       host::HostError);
  // A tracker naming a directory that is not there.
  std::ofstream(s.path / host::kTrackerFile) << "7";
  CHECK_THROWS_WITH_AS(host::open_checkpoint(ckpt_test::registry(), s.path, {}),
                       doctest::Contains("iter_0000007 does not exist"), host::HostError);
}

TEST_CASE("model parameters round-trip through the stacked keys, with the format forced or detected") {
  ckpt_test::ScratchDir s("model");
  auto a = host::ModelRunner::from_hf_config(ckpt_test::registry(), tiny_qwen2().dump(), seeded(1));
  save_runner(a, s.path, 42, {{"opt_param_scheduler", {{"num_steps", 42}}}, {"rng_state", json::array({1, 2})},
                              {"data_state", {{"consumed", 336}}}});
  for (bool detect : {true, false}) {
    host::LoadOptions o;
    o.auto_detect = detect;
    o.ckpt_format = "rawdir";
    auto c = host::open_checkpoint(ckpt_test::registry(), s.path, o);
    REQUIRE(c);
    CHECK(c->format->name() == "rawdir");
    CHECK(c->reader->find("decoder.layers.self_attention.linear_qkv.weight")->global_shape[0] == 2);
    auto b = host::ModelRunner::from_hf_config(ckpt_test::registry(), tiny_qwen2().dump(), seeded(2));
    host::load_parameters(b, *c->reader);
    for (size_t i = 0; i < a.params().size(); ++i) {
      const auto& p = a.params()[i];
      CHECK(std::equal(p.values(), p.values() + p.numel(), b.params()[i].values()));
    }
    CHECK(c->common["checkpoint_version"] == 3.0);
    CHECK(c->resume.iteration == 42);
    CHECK(c->resume.load_optimizer);
    CHECK(c->resume.rng_state == json::array({1, 2}));
    CHECK(c->resume.data_state["consumed"] == 336);
  }
}

TEST_CASE("--no_load_optim, --no_load_rng and --finetune drop what Megatron drops") {
  const json common = host::common_state(42, json::object());
  json full = common;
  full["opt_param_scheduler"] = {{"num_steps", 42}};
  full["rng_state"] = json::array({1});
  full["data_state"] = {{"consumed", 7}};
  host::LoadOptions o;
  o.no_load_optim = true;
  auto r = host::resume_state(full, 42, o);
  CHECK(r.iteration == 42);
  CHECK_FALSE(r.load_optimizer);
  CHECK(r.opt_param_scheduler.is_null());
  CHECK(r.rng_state == json::array({1}));
  o = {};
  o.no_load_rng = true;
  r = host::resume_state(full, 42, o);
  CHECK(r.load_optimizer);
  CHECK(r.rng_state.is_null());
  o = {};
  o.finetune = true;
  r = host::resume_state(full, 42, o);
  CHECK(r.iteration == 0);
  CHECK_FALSE(r.load_optimizer);
  CHECK(r.rng_state.is_null());
  CHECK(r.data_state.is_null());
}

TEST_CASE("a tensor of the wrong shape and a checkpoint of another model are clear errors") {
  ckpt_test::ScratchDir s("mismatch");
  auto small = host::ModelRunner::from_hf_config(ckpt_test::registry(), tiny_qwen2(32).dump(), seeded(1));
  save_runner(small, s.path, 1);
  auto c = host::open_checkpoint(ckpt_test::registry(), s.path, {});
  auto wide = host::ModelRunner::from_hf_config(ckpt_test::registry(), tiny_qwen2(64).dump(), seeded(1));
  CHECK_THROWS_WITH_AS(host::load_parameters(wide, *c->reader, host::recorded_model(c->common)),
                       doctest::Contains("has shape [64, 32], but model plugin qwen2 expects [64, 64] (the checkpoint "
                                         "records model_type qwen2 (hidden_size 32))"),
                       host::HostError);

  // A checkpoint whose tensors are not this model's at all.
  ckpt_test::ScratchDir other("other");
  std::vector<float> v(4, 1.0f);
  host::save_checkpoint(ckpt_test::rawdir(), {other.path, 3, host::common_state(3, {{"model_type", "toy"}}), nullptr, {}},
                        [&](host::CheckpointFormat::Writer& w) {
                          std::vector<host::TensorShard> sh = {{"toy.weight", {4}, {0}, cpu_view(v.data(), MSW_DTYPE_F32, {4})}};
                          w.write(sh);
                        });
  auto o = host::open_checkpoint(ckpt_test::registry(), other.path, {});
  CHECK_THROWS_WITH_AS(host::load_parameters(small, *o->reader, host::recorded_model(o->common)),
                       doctest::Contains("it is a checkpoint of another model (the checkpoint records model_type toy)"),
                       host::HostError);
}
