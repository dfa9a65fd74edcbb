#pragma once
// A one-line progress bar on stderr for a stretch of training: steps done, the running mean loss and
// the throughput in items (images, tokens) per second, redrawn at most ten times a second on a
// terminal (and drawn once, at the end, into a log).
//
//   epoch 2/5 [#########.........]  412/938  loss 0.3821  5120 img/s
#include <chrono>
#include <cstdint>
#include <string>

namespace examples {

class ProgressBar {
 public:
  // unit names the throughput: "img/s", "tok/s".
  ProgressBar(std::string label, std::int64_t total_steps, std::string unit = "img/s");
  // One more step over `items` items whose loss was `loss`.
  void step(std::int64_t items, double loss);
  // Draws the final state and ends the line.
  void finish();

  double mean_loss() const;
  double items_per_second() const;

 private:
  void draw();

  std::string label_, unit_;
  std::int64_t total_, done_ = 0, items_ = 0;
  double loss_sum_ = 0.0;
  bool interactive_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace examples
