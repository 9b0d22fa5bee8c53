// The dynamic loss scaler against Megatron-Core's DynamicGradScaler rules (megatron/core/optimizer/grad_scaler.py):
// backoff only after `hysteresis` overflows in a row, never below the minimum, growth after `growth_interval` clean
// steps in a row (which also refills the hysteresis budget), and a state that round-trips.
#include "host/core/status.hpp"
#include "host/training/loss_scaler.hpp"

#include <doctest/doctest.h>

using megaswift::training::DynamicLossScaler;
using megaswift::training::LossScalerOptions;

TEST_CASE("the loss scale starts at Megatron's 2^32 and halves only after two overflows in a row (hysteresis 2)") {
  DynamicLossScaler s;
  CHECK(s.scale() == 4294967296.0);
  s.update(true);
  CHECK(s.scale() == 4294967296.0);  // the first overflow spends the hysteresis budget
  s.update(true);
  CHECK(s.scale() == 2147483648.0);
  s.update(true);  // the budget stays spent: every further overflow halves
  CHECK(s.scale() == 1073741824.0);
  s.update(false);  // a clean step does not refill it (only growth does)
  s.update(true);
  CHECK(s.scale() == 536870912.0);
}

TEST_CASE("the loss scale grows after growth_interval clean steps in a row, and an overflow restarts the count") {
  LossScalerOptions o;
  o.initial_scale = 1024;
  o.growth_interval = 3;
  DynamicLossScaler s(o);
  s.update(false);
  s.update(false);
  s.update(true);  // resets the clean-step count; first overflow: no backoff
  CHECK(s.scale() == 1024);
  s.update(false);
  s.update(false);
  CHECK(s.scale() == 1024);
  s.update(false);
  CHECK(s.scale() == 2048);
  // Growth refilled the hysteresis budget: one overflow does not back off again.
  s.update(true);
  CHECK(s.scale() == 2048);
}

TEST_CASE("the loss scale never drops below min_scale") {
  LossScalerOptions o;
  o.initial_scale = 4;
  o.min_scale = 1;
  o.hysteresis = 1;
  DynamicLossScaler s(o);
  for (int i = 0; i < 10; ++i) s.update(true);
  CHECK(s.scale() == 1);
}

TEST_CASE("the loss scaler's state round-trips, and a malformed state names its field") {
  LossScalerOptions o;
  o.growth_interval = 5;
  DynamicLossScaler a(o);
  a.update(true);
  a.update(true);
  a.update(false);
  DynamicLossScaler b(o);
  b.load(a.state());
  CHECK(b.state() == a.state());
  b.update(true);
  a.update(true);
  CHECK(b.scale() == a.scale());
  CHECK_THROWS_WITH(b.load({{"scale", 1.0}}), doctest::Contains("\"growth_tracker\""));
  CHECK_THROWS_WITH(b.load({{"scale", -1.0}, {"growth_tracker", 0}, {"hysteresis_tracker", 0}}),
                    doctest::Contains("loss scale is"));
  LossScalerOptions bad;
  bad.backoff_factor = 2;
  CHECK_THROWS_AS(DynamicLossScaler{bad}, megaswift::host::HostError);
}
