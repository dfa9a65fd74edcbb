#include "plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace examples {

namespace {

std::string fixed(double value, int digits) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

// The step between axis ticks: 1, 2 or 5 times a power of ten, giving about `ticks` intervals over
// `range`, so the labels are round numbers (0.2, 0.4, ...) rather than fractions of the data's range.
double nice_step(double range, int ticks) {
  const double raw = range / ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  return (fraction <= 1.0 ? 1.0 : fraction <= 2.0 ? 2.0 : fraction <= 5.0 ? 5.0 : 10.0) * magnitude;
}

// Digits after the point that a tick step needs (0 for 1, 2, 500; 1 for 0.2).
int digits_for(double step) { return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))); }

// The y range: see Axes::fraction.
std::pair<double, double> y_range(const Axes& axes, const std::vector<Series>& series) {
  double lowest = INFINITY, highest = -INFINITY;
  for (const auto& s : series) {
    for (double y : s.y) {
      lowest = std::min(lowest, y);
      highest = std::max(highest, y);
    }
  }
  if (lowest > highest) return {0.0, 1.0};
  if (axes.fraction) return {std::max(0.0, std::floor(lowest * 10.0 - 1e-9) / 10.0), 1.0};
  return {0.0, std::max(highest, 1e-3)};
}

double x_extent(const Axes& axes, const std::vector<Series>& series) {
  double highest = axes.whole_x ? 1.0 : 1e-9;
  for (const auto& s : series)
    for (double x : s.x) highest = std::max(highest, x);
  return axes.whole_x ? std::ceil(highest - 1e-9) : highest;
}

void draw_single_point(Canvas& canvas, int x, int y, double value, Color color) {
  // One point (one epoch's accuracy) makes no line: a large outlined marker with its value beside
  // it, to the left since a single point sits on the panel's right edge.
  canvas.fill_rect(x - 6, y - 6, 13, 13, kBlack);
  canvas.fill_rect(x - 4, y - 4, 9, 9, color);
  const std::string label = fixed(value, 3);
  canvas.text(x - 12 - Canvas::text_width(label, 2), y - 6, label, color, 2);
}

}  // namespace

void draw_panel(Canvas& canvas, int left, int top, int width, int height, const Axes& axes,
                const std::vector<Series>& series) {
  canvas.text(left + width / 2 - Canvas::text_width(axes.title, 2) / 2, top - 24, axes.title, kBlack, 2);
  // Plain variables, not a structured binding: the lambdas below capture them (C++17 forbids that
  // for bindings, and clang enforces it).
  const std::pair<double, double> range = y_range(axes, series);
  double y_min = range.first, y_max = range.second;
  const double y_step = nice_step(y_max - y_min, 5);
  y_min = std::floor(y_min / y_step + 1e-9) * y_step;
  y_max = std::ceil(y_max / y_step - 1e-9) * y_step;
  const double x_max_data = x_extent(axes, series);
  const double x_step = axes.whole_x ? std::max(1.0, nice_step(x_max_data, 5)) : nice_step(x_max_data, 5);
  const double x_max = std::ceil(x_max_data / x_step - 1e-9) * x_step;

  const auto px = [&](double x) { return left + static_cast<int>(std::lround(x / x_max * width)); };
  const auto py = [&](double y) {
    return top + height - static_cast<int>(std::lround((y - y_min) / (y_max - y_min) * height));
  };
  const int y_ticks = static_cast<int>(std::lround((y_max - y_min) / y_step));
  for (int tick = 0; tick <= y_ticks; ++tick) {
    const double y = y_min + y_step * tick;
    canvas.line(left, py(y), left + width, py(y), kGrey);
    const std::string label = fixed(y, digits_for(y_step));
    canvas.text(left - Canvas::text_width(label) - 6, py(y) - 3, label, kBlack);
  }
  const int x_ticks = static_cast<int>(std::lround(x_max / x_step));
  for (int tick = 0; tick <= x_ticks; ++tick) {
    const double x = x_step * tick;
    const std::string label = fixed(x, digits_for(x_step));
    canvas.line(px(x), top + height, px(x), top + height + 4, kBlack);
    canvas.text(px(x) - Canvas::text_width(label) / 2, top + height + 8, label, kBlack);
  }
  canvas.text(left + width / 2 - Canvas::text_width(axes.x_label) / 2, top + height + 22, axes.x_label, kBlack);
  canvas.line(left, top, left, top + height, kBlack);
  canvas.line(left, top + height, left + width, top + height, kBlack);

  for (const auto& s : series) {
    if (s.x.size() == 1) {
      draw_single_point(canvas, px(s.x[0]), py(s.y[0]), s.y[0], s.color);
      continue;
    }
    for (std::size_t i = 0; i + 1 < s.x.size(); ++i)
      canvas.line(px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), s.color, 2);
    // Markers only where they stay apart; a long curve is a line.
    if (s.x.size() <= 60)
      for (std::size_t i = 0; i < s.x.size(); ++i) canvas.fill_rect(px(s.x[i]) - 2, py(s.y[i]) - 2, 5, 5, s.color);
  }
  if (series.size() > 1) {
    int y = top + 8;
    for (const auto& s : series) {
      const int x = left + width - 10 - Canvas::text_width(s.name) - 24;
      canvas.line(x, y + 3, x + 18, y + 3, s.color, 3);
      canvas.text(x + 24, y, s.name, kBlack);
      y += 14;
    }
  }
}

bool draw_chart(const Axes& axes, const std::vector<Series>& series, const std::string& path) {
  Canvas canvas(640, 400, kWhite);
  draw_panel(canvas, 70, 50, 540, 290, axes, series);
  return canvas.save_png(path);
}

}  // namespace examples
