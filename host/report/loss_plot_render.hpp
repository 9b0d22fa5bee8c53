// Drawing one curve into a PNG: loss_plot_cairo.cpp where the build found cairo, loss_plot_no_cairo.cpp (a refusal)
// where it did not. plot_training_curves (loss_plot.cpp) does the naming and the checks around it.
#pragma once

#include "host/report/loss_plot.hpp"

#include <filesystem>

namespace megaswift::report {

bool png_rendering_available();

// Writes `file` (kPlotWidth x kPlotHeight); curve has at least one point. Throws HostError on failure.
void render_curve_png(const Curve& curve, const std::filesystem::path& file);

}  // namespace megaswift::report
