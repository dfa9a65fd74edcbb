#include "pictures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "canvas.hpp"
#include "classes.hpp"

namespace fashion {

namespace {

constexpr Color kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrey{200, 200, 200}, kGreen{0, 130, 0}, kRed{200, 0, 0},
    kBlue{30, 90, 200};

constexpr int kZoom = 3, kSide = 28 * kZoom, kCellWidth = 100, kCellHeight = kSide + 30;

void draw_image(Canvas& canvas, int x, int y, const std::vector<float>& pixels) {
  for (int row = 0; row < 28; ++row) {
    for (int col = 0; col < 28; ++col) {
      const float value = std::clamp(pixels[static_cast<std::size_t>(row * 28 + col)], 0.0f, 1.0f);
      // Dark garments on a light background, as the photographs were.
      const auto level = static_cast<std::uint8_t>(std::lround(255.0f * (1.0f - value)));
      canvas.fill_rect(x + col * kZoom, y + row * kZoom, kZoom, kZoom, {level, level, level});
    }
  }
}

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

// One panel: axes, round labelled ticks, and the polyline of (xs, ys) with a marker at each point.
void draw_panel(Canvas& canvas, int left, int top, int width, int height, const std::string& title,
                const std::vector<double>& xs, const std::vector<double>& ys, double x_max, Color color,
                bool fraction) {
  canvas.text(left + width / 2 - Canvas::text_width(title, 2) / 2, top - 24, title, kBlack, 2);
  double y_min = ys.empty() ? 0.0 : *std::min_element(ys.begin(), ys.end());
  double y_max = ys.empty() ? 1.0 : *std::max_element(ys.begin(), ys.end());
  if (fraction) {
    // Accuracy: from the tenth below the lowest value up to 1.
    y_min = std::max(0.0, std::floor(y_min * 10.0 - 1e-9) / 10.0);
    y_max = 1.0;
  } else {
    // Loss: from 0 up to the first round tick above the highest value.
    y_min = 0.0;
    y_max = std::max(y_max, 1e-3);
  }
  const double step = nice_step(y_max - y_min, 5);
  y_min = std::floor(y_min / step + 1e-9) * step;
  y_max = std::ceil(y_max / step - 1e-9) * step;
  const int ticks = static_cast<int>(std::lround((y_max - y_min) / step));
  const int digits = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  const auto px = [&](double x) { return left + static_cast<int>(std::lround(x / x_max * width)); };
  const auto py = [&](double y) {
    return top + height - static_cast<int>(std::lround((y - y_min) / (y_max - y_min) * height));
  };
  for (int tick = 0; tick <= ticks; ++tick) {
    const double y = y_min + step * tick;
    canvas.line(left, py(y), left + width, py(y), kGrey);
    const std::string label = fixed(y, digits);
    canvas.text(left - Canvas::text_width(label) - 6, py(y) - 3, label, kBlack);
  }
  for (int epoch = 0; epoch <= static_cast<int>(x_max); ++epoch) {
    canvas.line(px(epoch), top + height, px(epoch), top + height + 4, kBlack);
    canvas.text(px(epoch) - 2, top + height + 8, std::to_string(epoch), kBlack);
  }
  canvas.text(left + width / 2 - 15, top + height + 22, "epoch", kBlack);
  canvas.line(left, top, left, top + height, kBlack);
  canvas.line(left, top + height, left + width, top + height, kBlack);
  for (std::size_t i = 0; i + 1 < xs.size(); ++i)
    canvas.line(px(xs[i]), py(ys[i]), px(xs[i + 1]), py(ys[i + 1]), color, 2);
  if (xs.size() == 1) {
    // One point (one epoch's accuracy) makes no line: a large outlined marker with its value
    // beside it, to the left since one epoch puts it on the panel's right edge.
    const int x = px(xs[0]), y = py(ys[0]);
    canvas.fill_rect(x - 6, y - 6, 13, 13, kBlack);
    canvas.fill_rect(x - 4, y - 4, 9, 9, color);
    const std::string value = fixed(ys[0], 3);
    canvas.text(x - 12 - Canvas::text_width(value, 2), y - 6, value, color, 2);
    return;
  }
  for (std::size_t i = 0; i < xs.size(); ++i) canvas.fill_rect(px(xs[i]) - 2, py(ys[i]) - 2, 5, 5, color);
}

}  // namespace

bool draw_mistakes(const std::vector<Mistake>& mistakes, const std::string& path) {
  const int columns = 8;
  const int rows = std::max(1, static_cast<int>((mistakes.size() + columns - 1) / columns));
  Canvas canvas(columns * kCellWidth, rows * kCellHeight, kWhite);
  for (std::size_t i = 0; i < mistakes.size(); ++i) {
    const int x = static_cast<int>(i % columns) * kCellWidth, y = static_cast<int>(i / columns) * kCellHeight;
    draw_image(canvas, x + (kCellWidth - kSide) / 2, y + 2, mistakes[i].pixels);
    const auto& truth = kClassNames[static_cast<std::size_t>(mistakes[i].truth)];
    const auto& predicted = kClassNames[static_cast<std::size_t>(mistakes[i].predicted)];
    canvas.text(x + 4, y + kSide + 5, "true: " + truth, kGreen);
    canvas.text(x + 4, y + kSide + 16, "pred: " + predicted, kRed);
  }
  return canvas.save_png(path);
}

bool draw_curves(const History& history, const std::string& path) {
  Canvas canvas(900, 380, kWhite);
  double x_max = 1.0;
  for (double x : history.loss_x) x_max = std::max(x_max, std::ceil(x - 1e-9));
  for (double x : history.accuracy_x) x_max = std::max(x_max, std::ceil(x - 1e-9));
  draw_panel(canvas, 70, 50, 340, 270, "training loss", history.loss_x, history.loss, x_max, kBlue, false);
  draw_panel(canvas, 520, 50, 340, 270, "test accuracy", history.accuracy_x, history.accuracy, x_max, kGreen, true);
  return canvas.save_png(path);
}

}  // namespace fashion
