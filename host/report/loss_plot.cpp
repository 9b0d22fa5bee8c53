#include "host/report/loss_plot.hpp"

#include "host/core/status.hpp"
#include "host/report/loss_plot_render.hpp"

#include <algorithm>
#include <unordered_map>

namespace megaswift::report {

bool loss_plots_available() { return png_rendering_available(); }

std::string plot_file_name(const std::string& tag) {
  std::string name = tag;
  std::replace(name.begin(), name.end(), '/', '_');
  return name + ".png";
}

std::vector<std::filesystem::path> plot_training_curves(const std::vector<Curve>& curves,
                                                        const std::filesystem::path& images_dir) {
  std::error_code ec;
  std::filesystem::create_directories(images_dir, ec);
  if (ec)
    throw host::HostError(
        MSW_STATUS_IO, "loss plots: cannot create the images directory " + images_dir.string() + ": " + ec.message());
  std::vector<std::filesystem::path> written;
  for (const Curve& curve : curves) {
    if (curve.points.empty()) continue;
    if (curve.tag.empty())
      throw host::HostError(MSW_STATUS_INVALID_ARGUMENT, "loss plots: a curve has an empty tag, which names no file");
    const std::filesystem::path file = images_dir / plot_file_name(curve.tag);
    render_curve_png(curve, file);
    written.push_back(file);
  }
  return written;
}

std::vector<Curve> curves_by_tag(const std::vector<ScalarEvent>& scalars) {
  std::vector<Curve> curves;
  std::unordered_map<std::string, std::size_t> index;
  for (const ScalarEvent& s : scalars) {
    auto [it, inserted] = index.try_emplace(s.tag, curves.size());
    if (inserted) curves.push_back({s.tag, {}});
    curves[it->second].points.emplace_back(s.step, s.value);
  }
  return curves;
}

}  // namespace megaswift::report
