// The loss-curve PNG drawn with cairo: matplotlib-like layout at ms-swift's figure size, toy-text labels.
#include "host/core/status.hpp"
#include "host/report/loss_plot_render.hpp"
#include "host/report/plot_axes.hpp"
#include "host/report/smoothing.hpp"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace megaswift::report {

namespace {

struct Rgb {
  double r, g, b;
};
// ms-swift's colours (TensorBoard's orange): the raw series faint, the smoothed one strong.
constexpr Rgb kRawColor{0xFF / 255.0, 0xE2 / 255.0, 0xD9 / 255.0};
constexpr Rgb kSmoothColor{0xFF / 255.0, 0x70 / 255.0, 0x43 / 255.0};
// matplotlib's defaults at 100 dpi: 12 pt title, 10 pt tick labels, 1.5 pt lines, 0.8 pt frame, 3.5 pt ticks.
constexpr double kTitleSize = 16.7, kLabelSize = 13.9, kLineWidth = 2.1, kFrameWidth = 1.1, kTickLength = 4.9;
constexpr double kDotRadius = 4.2;
constexpr const char* kFont = "DejaVu Sans";

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

// The pixel box of the plot area and the data range it shows.
struct Frame {
  double left, top, right, bottom;
  double x_lo, x_hi, y_lo, y_hi;
  double px(double x) const { return left + (x - x_lo) / (x_hi - x_lo) * (right - left); }
  double py(double y) const { return bottom - (y - y_lo) / (y_hi - y_lo) * (bottom - top); }
};

double text_width(cairo_t* cr, const std::string& text) {
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  return ext.x_advance;
}

void set_color(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

// A polyline through the finite points; a non-finite value (a NaN loss) breaks the line.
void stroke_series(cairo_t* cr, const Frame& f, const std::vector<double>& xs, const std::vector<double>& ys,
                   Rgb color) {
  bool pen_down = false;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(ys[i])) {
      pen_down = false;
      continue;
    }
    if (pen_down) {
      cairo_line_to(cr, f.px(xs[i]), f.py(ys[i]));
    } else {
      cairo_move_to(cr, f.px(xs[i]), f.py(ys[i]));
      pen_down = true;
    }
  }
  set_color(cr, color);
  cairo_set_line_width(cr, kLineWidth);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
  cairo_stroke(cr);
}

void draw_axes(cairo_t* cr, const Frame& f, const Ticks& xt, const Ticks& yt) {
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_set_line_width(cr, kFrameWidth);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_stroke(cr);
  cairo_set_font_size(cr, kLabelSize);
  const auto x_labels = tick_labels(xt), y_labels = tick_labels(yt);
  for (std::size_t i = 0; i < xt.values.size(); ++i) {
    const double x = f.px(xt.values[i]);
    cairo_move_to(cr, x, f.bottom);
    cairo_line_to(cr, x, f.bottom + kTickLength);
    cairo_stroke(cr);
    cairo_move_to(cr, x - text_width(cr, x_labels[i]) / 2, f.bottom + kTickLength + 4 + kLabelSize);
    cairo_show_text(cr, x_labels[i].c_str());
  }
  for (std::size_t i = 0; i < yt.values.size(); ++i) {
    const double y = f.py(yt.values[i]);
    cairo_move_to(cr, f.left, y);
    cairo_line_to(cr, f.left - kTickLength, y);
    cairo_stroke(cr);
    cairo_move_to(cr, f.left - kTickLength - 4 - text_width(cr, y_labels[i]), y + kLabelSize * 0.36);
    cairo_show_text(cr, y_labels[i].c_str());
  }
}

void draw_curve(cairo_t* cr, const Curve& curve) {
  std::vector<double> xs, ys;
  double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
  for (const auto& [step, value] : curve.points) {
    xs.push_back(static_cast<double>(step));
    ys.push_back(value);
    x_lo = std::min(x_lo, xs.back());
    x_hi = std::max(x_hi, xs.back());
    if (std::isfinite(value)) {
      y_lo = std::min(y_lo, value);
      y_hi = std::max(y_hi, value);
    }
  }
  if (y_lo > y_hi) y_lo = y_hi = 0;  // every value non-finite: an empty axis, still titled
  padded_range(x_lo, x_hi);
  padded_range(y_lo, y_hi);
  const Ticks xt = nice_ticks(x_lo, x_hi, 7, /*integer_only=*/true);
  const Ticks yt = nice_ticks(y_lo, y_hi, 7, /*integer_only=*/false);

  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, kFont, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, kLabelSize);
  double widest_y_label = 0;
  for (const auto& label : tick_labels(yt)) widest_y_label = std::max(widest_y_label, text_width(cr, label));
  const Frame f{12 + widest_y_label + 4 + kTickLength,
                12 + kTitleSize * 2,
                kPlotWidth - 24.0,
                kPlotHeight - (12 + kLabelSize + 4 + kTickLength),
                x_lo,
                x_hi,
                y_lo,
                y_hi};

  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_clip(cr);
  if (xs.size() == 1) {
    if (std::isfinite(ys[0])) {
      set_color(cr, kSmoothColor);
      cairo_arc(cr, f.px(xs[0]), f.py(ys[0]), kDotRadius, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  } else if (curve.smooth) {
    stroke_series(cr, f, xs, ys, kRawColor);
    stroke_series(cr, f, xs, tensorboard_smoothing(ys, kPlotSmoothing), kSmoothColor);
  } else {
    stroke_series(cr, f, xs, ys, kSmoothColor);
  }
  cairo_restore(cr);

  draw_axes(cr, f, xt, yt);
  cairo_set_font_size(cr, kTitleSize);
  cairo_move_to(cr, (f.left + f.right - text_width(cr, curve.tag)) / 2, 12 + kTitleSize);
  cairo_show_text(cr, curve.tag.c_str());
}

}  // namespace

bool png_rendering_available() { return true; }

void render_curve_png(const Curve& curve, const std::filesystem::path& file) {
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, kPlotWidth, kPlotHeight), cairo_surface_destroy);
  Context cr(cairo_create(surface.get()), cairo_destroy);
  draw_curve(cr.get(), curve);
  cairo_status_t status = cairo_status(cr.get());
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_write_to_png(surface.get(), file.c_str());
  if (status != CAIRO_STATUS_SUCCESS)
    throw host::HostError(MSW_STATUS_IO, "loss plots: cannot write " + file.string() + " (" + curve.tag +
                                             "): " + cairo_status_to_string(status));
}

}  // namespace megaswift::report
