#pragma once
// A one-line progress bar on stderr for a training epoch: batches done, the running mean loss and
// the throughput in images per second, redrawn at most ten times a second on a terminal (and drawn
// once, at the end, into a log).
//
//   epoch 2/5 [#########.........]  412/938  loss 0.3821  5120 img/s
#include <chrono>
#include <cstdint>
#include <string>

namespace fashion {

class ProgressBar {
 public:
  ProgressBar(std::string label, std::int64_t total_batches);
  // One more batch of `images` images whose loss was `loss`.
  void step(std::int64_t images, double loss);
  // Draws the final state and ends the line.
  void finish();

  double mean_loss() const;
  double images_per_second() const;

 private:
  void draw();

  std::string label_;
  std::int64_t total_, done_ = 0, images_ = 0;
  double loss_sum_ = 0.0;
  bool interactive_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace fashion
