#include "host/core/status.hpp"
#include "host/report/loss_plot_render.hpp"

namespace megaswift::report {

bool png_rendering_available() { return false; }

void render_curve_png(const Curve& curve, const std::filesystem::path& file) {
  throw host::HostError(MSW_STATUS_UNSUPPORTED,
                        "loss plots: this build of Megaswift has no cairo, so it cannot draw " + file.string() + " (" +
                            curve.tag +
                            "); the TensorBoard event files hold the same data. Install the Debian "
                            "package libcairo2-dev and rebuild to get the PNGs.");
}

}  // namespace megaswift::report
