// The learning-rate schedule against the definition of Megatron's OptimizerParamScheduler (warm-up, then cosine,
// linear or constant decay to min_lr, min_lr after), counted in samples, with its state saved and restored.
#include "host/core/status.hpp"
#include "host/training/lr_scheduler.hpp"

#include <doctest/doctest.h>

#include <cmath>

using megaswift::training::LrScheduleOptions;
using megaswift::training::LrScheduler;

namespace {

LrScheduleOptions schedule(const char* style) {
  LrScheduleOptions o;
  o.max_lr = 1e-3;
  o.min_lr = 1e-4;
  o.warmup_steps = 4 * 16;
  o.decay_steps = 20 * 16;
  o.decay_style = style;
  o.weight_decay = 0.1;
  return o;
}

}  // namespace

TEST_CASE("warm-up rises linearly from 0 and the first iteration runs at lr 0, as Megatron's") {
  LrScheduler s(schedule("cosine"));
  CHECK(s.lr() == 0.0);
  s.step(16);
  CHECK(s.lr() == doctest::Approx(0.25e-3));
  s.step(16 * 3);
  CHECK(s.lr() == doctest::Approx(1e-3));
}

TEST_CASE("cosine decay follows min + (max - min) * (1 + cos(pi * ratio)) / 2 and stays at min_lr after") {
  LrScheduler s(schedule("cosine"));
  for (int it = 5; it <= 20; ++it) {
    const double ratio = (it - 4.0) / 16.0;
    CHECK(s.lr_at(it * 16) == doctest::Approx(1e-4 + 0.9e-3 * 0.5 * (1 + std::cos(M_PI * ratio))).epsilon(1e-12));
  }
  CHECK(s.lr_at(12 * 16) == doctest::Approx(0.55e-3));  // the middle of the decay: halfway between max and min
  CHECK(s.lr_at(25 * 16) == 1e-4);
}

TEST_CASE("linear decay is a straight line from max_lr to min_lr; constant stays at max_lr after warm-up") {
  LrScheduler lin(schedule("linear"));
  CHECK(lin.lr_at(12 * 16) == doctest::Approx(0.55e-3));
  CHECK(lin.lr_at(20 * 16) == doctest::Approx(1e-4));
  LrScheduler c(schedule("constant"));
  CHECK(c.lr_at(2 * 16) == doctest::Approx(0.5e-3));
  CHECK(c.lr_at(100 * 16) == 1e-3);
}

TEST_CASE("the saved schedule restores the step count, and a schedule of other flags is refused naming the flag") {
  LrScheduler a(schedule("cosine"));
  for (int i = 0; i < 7; ++i) a.step(16);
  LrScheduler b(schedule("cosine"));
  b.load_state(a.state());
  CHECK(b.num_steps() == 7 * 16);
  CHECK(b.lr() == a.lr());
  CHECK(a.state()["lr_decay_style"] == "cosine");
  CHECK(a.state()["lr_warmup_steps"] == 64);

  LrScheduleOptions other = schedule("cosine");
  other.max_lr = 2e-3;
  LrScheduler c(other);
  try {
    c.load_state(a.state());
    FAIL("a different --lr was accepted");
  } catch (const megaswift::host::HostError& e) {
    CHECK(std::string(e.what()).find("max_lr") != std::string::npos);
    CHECK(std::string(e.what()).find("--lr") != std::string::npos);
    CHECK(std::string(e.what()).find("--finetune") != std::string::npos);
  }
  CHECK_THROWS_AS(c.load_state(nlohmann::json::object()), megaswift::host::HostError);
}

TEST_CASE("a decay that ends before the warm-up does is refused naming both flags") {
  LrScheduleOptions o = schedule("cosine");
  o.decay_steps = 2 * 16;
  CHECK_THROWS_WITH_AS(LrScheduler{o}, doctest::Contains("--lr_decay_iters"), megaswift::host::HostError);
}
