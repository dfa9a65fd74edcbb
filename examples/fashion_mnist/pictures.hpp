#pragma once
// The example's two pictures: misclassified test images with their true and predicted classes, and
// the training curves.
#include <cstdint>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace fashion {

// One test image the model got wrong: pixels (28 x 28, in [0, 1]) and the two labels.
struct Mistake {
  std::vector<float> pixels;
  std::int64_t truth, predicted;
};

// A grid of the mistakes, each image enlarged 3x above "true: ..." (green) and "pred: ..." (red).
bool draw_mistakes(const std::vector<Mistake>& mistakes, const std::string& path);

// What the curves show: the mean training loss over stretches of batches (x in epochs, fractional)
// and the test accuracy after each epoch.
struct History {
  std::vector<double> loss_x, loss;
  std::vector<double> accuracy_x, accuracy;
};

// Two panels side by side: training loss and test accuracy against epochs.
bool draw_curves(const History& history, const std::string& path);

}  // namespace fashion
