// The loss-curve images ms-swift draws at the end of training (<output_dir>/images/*.png), drawn with cairo when the
// build has it (loss_plots_available()).
#pragma once

#include "host/report/tensorboard_writer.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::report {

// ms-swift's figure: 8 x 5 inches at 100 dpi.
inline constexpr int kPlotWidth = 800;
inline constexpr int kPlotHeight = 500;
inline constexpr double kPlotSmoothing = 0.9;

struct Curve {
  std::string tag;
  std::vector<std::pair<int64_t, double>> points;
  // false: the values as one strong line, unsmoothed. ms-swift's plot_images smooths only the tags in its smooth_key
  // list (train/loss where its trainers pass one) and draws the others this way.
  bool smooth = true;
};

// One PNG per curve in images_dir (created), named as ms-swift names them: the tag with '/' replaced by '_'
// (train/loss -> train_loss.png), drawn as ms-swift does: the raw values faint and a smoothed curve (TensorBoard's
// exponential moving average, smoothing 0.9 as ms-swift's default) strong, the tag as the title, axes with tick labels
// (step on x, value on y); a curve of one point is a single dot. Returns the files written. Curves with no points
// are skipped. A curve with an empty tag, or a file that cannot be written, throws HostError.
std::vector<std::filesystem::path> plot_training_curves(const std::vector<Curve>& curves,
                                                        const std::filesystem::path& images_dir);

// False when this build found no cairo: plot_training_curves then throws HostError(MSW_STATUS_UNSUPPORTED) saying
// so, and a trainer should log that and carry on (the TensorBoard files hold the same data).
bool loss_plots_available();

// The file name plot_training_curves gives a tag's image.
std::string plot_file_name(const std::string& tag);

// Groups the scalars of an event file into one curve per tag, tags in order of first appearance, points in file
// order: read_scalars(file) -> curves_by_tag -> plot_training_curves.
std::vector<Curve> curves_by_tag(const std::vector<ScalarEvent>& scalars);

}  // namespace megaswift::report
