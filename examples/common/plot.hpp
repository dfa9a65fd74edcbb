#pragma once
// Line charts for the examples' training curves (loss against epochs or iterations), drawn on a
// Canvas with round tick values.
#include <string>
#include <vector>

#include "canvas.hpp"

namespace examples {

// One curve: points (x[i], y[i]) joined by a line, each marked; a single point is drawn as a large
// marker with its value beside it.
struct Series {
  std::string name;  // shown in the legend when the panel has more than one series
  std::vector<double> x, y;
  Color color;
};

struct Axes {
  std::string title, x_label;
  // true: y from the tenth below the lowest value up to 1 (accuracy); false: from 0 up to the first
  // round tick above the highest value (loss).
  bool fraction = false;
  // Ticks on x at whole numbers only (epochs).
  bool whole_x = false;
};

// A panel whose plotting area is the rectangle (left, top, width, height): title above, axes, round
// labelled ticks on both axes, the series, and a legend when there is more than one.
void draw_panel(Canvas& canvas, int left, int top, int width, int height, const Axes& axes,
                const std::vector<Series>& series);

// One panel on a canvas of its own, written as a PNG; false when the file cannot be written.
bool draw_chart(const Axes& axes, const std::vector<Series>& series, const std::string& path);

inline constexpr Color kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrey{200, 200, 200}, kGreen{0, 130, 0},
    kRed{200, 0, 0}, kBlue{30, 90, 200}, kOrange{230, 120, 0};

}  // namespace examples
