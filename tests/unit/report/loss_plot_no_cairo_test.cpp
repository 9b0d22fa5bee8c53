// A build without cairo: the loss plots say they are unavailable and refuse with a message naming the package.
#include "host/core/status.hpp"
#include "host/report/loss_plot.hpp"

#include <scratch_dir.hpp>

#include <doctest/doctest.h>

using namespace megaswift::report;

TEST_CASE("without cairo the loss plots are unavailable and refuse naming libcairo2-dev") {
  CHECK_FALSE(loss_plots_available());
  const auto dir = megaswift::testing::scratch_dir("msw_report_no_cairo");
  CHECK(plot_training_curves({Curve{"train/loss", {}}}, dir).empty());  // nothing to draw: nothing refused
  CHECK_THROWS_WITH_AS(plot_training_curves({Curve{"train/loss", {{1, 2.0}}}}, dir), doctest::Contains("libcairo2-dev"),
                       megaswift::host::HostError);
}
