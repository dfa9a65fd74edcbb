#include "pictures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "classes.hpp"
#include "plot.hpp"

namespace fashion {

namespace {

using examples::Canvas;
using examples::kBlue;
using examples::kGreen;
using examples::kRed;
using examples::kWhite;

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
  // Both panels span the same epochs: the loss curve's last point is the last epoch's end.
  examples::Series loss{"training loss", history.loss_x, history.loss, kBlue};
  examples::Series accuracy{"test accuracy", history.accuracy_x, history.accuracy, kGreen};
  examples::draw_panel(canvas, 70, 50, 340, 270, {"training loss", "epoch", false, true}, {loss});
  examples::draw_panel(canvas, 520, 50, 340, 270, {"test accuracy", "epoch", true, true}, {accuracy});
  return canvas.save_png(path);
}

}  // namespace fashion
