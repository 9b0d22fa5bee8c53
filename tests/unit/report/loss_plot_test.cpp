// The loss-curve PNGs: names as ms-swift gives them, valid images of the expected size read back with cairo, the
// raw series faint and the smoothed one strong in ms-swift's colours, a title and tick labels, and images that
// depend on the data.
#include "host/core/status.hpp"
#include "host/report/loss_plot.hpp"

#include <scratch_dir.hpp>

#include <cairo.h>
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <memory>

namespace fs = std::filesystem;
using namespace megaswift::report;

namespace {

fs::path fresh(const std::string& name) {
  const fs::path dir = megaswift::testing::scratch_dir("msw_report_plot") / name;
  fs::remove_all(dir);
  return dir;
}

// A PNG read back as 0xRRGGBB per pixel.
struct Image {
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;
  uint32_t at(int x, int y) const { return pixels[static_cast<std::size_t>(y) * width + x]; }
  // Pixels in [x0, x1) x [y0, y1) for which pred holds.
  template <class Pred>
  int count(int x0, int y0, int x1, int y1, Pred pred) const {
    int n = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) n += pred(at(x, y)) ? 1 : 0;
    return n;
  }
};

Image load_png(const fs::path& file) {
  std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)> s(
      cairo_image_surface_create_from_png(file.c_str()), cairo_surface_destroy);
  REQUIRE_MESSAGE(cairo_surface_status(s.get()) == CAIRO_STATUS_SUCCESS,
                  file.string() << ": " << cairo_status_to_string(cairo_surface_status(s.get())));
  Image img;
  img.width = cairo_image_surface_get_width(s.get());
  img.height = cairo_image_surface_get_height(s.get());
  const int stride = cairo_image_surface_get_stride(s.get());
  const unsigned char* data = cairo_image_surface_get_data(s.get());
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x)
      img.pixels.push_back(reinterpret_cast<const uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride)[x] &
                           0xFFFFFFu);
  return img;
}

constexpr uint32_t kSmooth = 0xFF7043, kRaw = 0xFFE2D9;
bool is_dark(uint32_t p) { return ((p >> 16) & 0xFF) < 100 && ((p >> 8) & 0xFF) < 100 && (p & 0xFF) < 100; }

Curve decaying_loss(const std::string& tag, int n) {
  Curve c{tag, {}};
  for (int i = 0; i < n; ++i)
    c.points.emplace_back(i + 1, 4.0 * std::exp(-i / 30.0) + 0.6 * std::sin(i * 1.7) + 1.0);  // noisy, falling
  return c;
}

// The mean row of the smoothed colour's pixels in columns [x0, x1).
double mean_row_of_smooth(const Image& img, int x0, int x1) {
  double sum = 0;
  int n = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = x0; x < x1; ++x)
      if (img.at(x, y) == kSmooth) {
        sum += y;
        ++n;
      }
  REQUIRE(n > 0);
  return sum / n;
}

}  // namespace

TEST_CASE("a build with cairo has loss plots") { CHECK(loss_plots_available()); }

TEST_CASE("each curve becomes <tag with / as _>.png in the created images directory; empty curves are skipped") {
  const fs::path dir = fresh("names") / "out" / "images";
  const auto files = plot_training_curves({decaying_loss("train/loss", 50), Curve{"train/empty", {}},
                                           decaying_loss("eval/sub/acc", 20), decaying_loss("lr", 10)},
                                          dir);
  REQUIRE(files.size() == 3);
  CHECK(files[0] == dir / "train_loss.png");
  CHECK(files[1] == dir / "eval_sub_acc.png");
  CHECK(files[2] == dir / "lr.png");
  for (const auto& f : files) CHECK(fs::exists(f));
  CHECK_FALSE(fs::exists(dir / "train_empty.png"));
  CHECK(plot_file_name("train/loss") == "train_loss.png");
}

TEST_CASE("the images are valid PNGs of ms-swift's 800 x 500 figure size") {
  const fs::path dir = fresh("valid");
  const auto files = plot_training_curves({decaying_loss("train/loss", 100)}, dir);
  REQUIRE(files.size() == 1);
  std::ifstream in(files[0], std::ios::binary);
  char sig[8] = {};
  in.read(sig, 8);
  CHECK(std::string(sig, 8) == std::string("\x89PNG\r\n\x1a\n", 8));
  const Image img = load_png(files[0]);
  CHECK(img.width == kPlotWidth);
  CHECK(img.height == kPlotHeight);
  CHECK(img.width == 800);
  CHECK(img.height == 500);
}

TEST_CASE("the plot draws the raw series faint, the smoothed one strong, a title and tick labels") {
  const fs::path dir = fresh("content");
  const Image img = load_png(plot_training_curves({decaying_loss("train/loss", 200)}, dir).at(0));
  const auto all = [&](auto pred) { return img.count(0, 0, img.width, img.height, pred); };
  CHECK(all([](uint32_t p) { return p == kSmooth; }) > 300);  // a line across 700 pixels
  CHECK(all([](uint32_t p) { return p == kRaw; }) > 300);
  CHECK(all([](uint32_t p) { return p == 0xFFFFFF; }) > img.width * img.height / 2);  // white background
  // Title above the plot area, tick labels left of it and below it: dark text pixels in each band.
  CHECK(img.count(img.width / 3, 0, 2 * img.width / 3, 30, is_dark) > 20);
  CHECK(img.count(0, 60, 40, img.height - 60, is_dark) > 50);
  CHECK(img.count(100, img.height - 25, img.width - 40, img.height, is_dark) > 50);
  // A falling loss: the smoothed line sits high (small rows) on the left and low on the right.
  CHECK(mean_row_of_smooth(img, 80, 200) + 100 < mean_row_of_smooth(img, img.width - 150, img.width - 30));
}

TEST_CASE("different curves give different images; a single point is a dot") {
  const fs::path a = fresh("diff_a"), b = fresh("diff_b");
  Curve rising{"train/loss", {}};
  for (int i = 0; i < 100; ++i) rising.points.emplace_back(i, 0.01 * i * i);
  const Image ia = load_png(plot_training_curves({decaying_loss("train/loss", 100)}, a).at(0));
  const Image ib = load_png(plot_training_curves({rising}, b).at(0));
  int differing = 0;
  for (std::size_t i = 0; i < ia.pixels.size(); ++i) differing += ia.pixels[i] != ib.pixels[i];
  CHECK(differing > 1000);
  CHECK(mean_row_of_smooth(ib, 80, 200) > mean_row_of_smooth(ib, ib.width - 150, ib.width - 30) + 100);

  const Image dot = load_png(plot_training_curves({Curve{"train/loss", {{7, 2.5}}}}, fresh("dot")).at(0));
  const int smooth = dot.count(0, 0, dot.width, dot.height, [](uint32_t p) { return p == kSmooth; });
  CHECK(smooth > 10);
  CHECK(smooth < 200);
  // No faint series (a few antialiased edge pixels of the dot may blend to the faint colour).
  CHECK(dot.count(0, 0, dot.width, dot.height, [](uint32_t p) { return p == kRaw; }) * 5 < smooth);
}

TEST_CASE("an unsmoothed curve is one strong line through the raw values") {
  Curve raw = decaying_loss("train/learning_rate", 200);
  raw.smooth = false;
  const Image img = load_png(plot_training_curves({raw}, fresh("unsmoothed")).at(0));
  CHECK(img.count(0, 0, img.width, img.height, [](uint32_t p) { return p == kSmooth; }) > 300);
  const Image smoothed =
      load_png(plot_training_curves({decaying_loss("train/learning_rate", 200)}, fresh("smoothed")).at(0));
  // No faint series: the faint colour shows up only where the strong line's antialiased edge happens to blend to it.
  const auto faint = [](const Image& im) {
    return im.count(0, 0, im.width, im.height, [](uint32_t p) { return p == kRaw; });
  };
  CHECK(faint(img) * 3 < faint(smoothed));
  // The noisy raw values span more rows than their smoothed curve would.
  const auto rows_with_smooth_colour = [](const Image& im) {
    int rows = 0;
    for (int y = 0; y < im.height; ++y)
      rows += im.count(im.width / 2, y, im.width - 30, y + 1, [](uint32_t p) { return p == kSmooth; }) > 0;
    return rows;
  };
  CHECK(rows_with_smooth_colour(img) > rows_with_smooth_colour(smoothed) + 20);
}

TEST_CASE("non-finite values and flat curves still plot; an empty tag is refused") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const fs::path dir = fresh("odd");
  const auto files =
      plot_training_curves({Curve{"nan/loss", {{1, 2.0}, {2, nan}, {3, 1.0}, {4, 1.5}}},
                            Curve{"all_nan", {{1, nan}, {2, nan}}}, Curve{"flat", {{0, 3.0}, {10, 3.0}}}},
                           dir);
  CHECK(files.size() == 3);
  for (const auto& f : files) CHECK(load_png(f).width == kPlotWidth);
  CHECK_THROWS_AS(plot_training_curves({Curve{"", {{1, 1.0}}}}, dir), megaswift::host::HostError);
}

TEST_CASE("curves_by_tag groups an event file's scalars by tag in order of first appearance") {
  const std::vector<ScalarEvent> s = {{"train/loss", 1, 0, 3.0f}, {"lr", 1, 0, 0.1f}, {"train/loss", 2, 0, 2.0f}};
  const auto curves = curves_by_tag(s);
  REQUIRE(curves.size() == 2);
  CHECK(curves[0].tag == "train/loss");
  CHECK(curves[0].points == std::vector<std::pair<int64_t, double>>{{1, 3.0}, {2, 2.0}});
  CHECK(curves[1].tag == "lr");
}
