#include "progress.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include <unistd.h>

namespace examples {

ProgressBar::ProgressBar(std::string label, std::int64_t total_steps, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(std::max<std::int64_t>(total_steps, 1)),
      interactive_(isatty(fileno(stderr)) != 0), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void ProgressBar::step(std::int64_t items, double loss) {
  ++done_;
  items_ += items;
  loss_sum_ += loss;
  const auto now = std::chrono::steady_clock::now();
  if (interactive_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw();
  }
}

void ProgressBar::finish() {
  draw();
  std::fputc('\n', stderr);
}

double ProgressBar::mean_loss() const { return done_ == 0 ? 0.0 : loss_sum_ / static_cast<double>(done_); }

double ProgressBar::items_per_second() const {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  return seconds > 0 ? static_cast<double>(items_) / seconds : 0.0;
}

void ProgressBar::draw() {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * std::min(done_, total_) / total_);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kWidth - filled), '.');
  std::fprintf(stderr, "\r%s [%s] %5lld/%lld  loss %.4f  %6.0f %s", label_.c_str(), bar.c_str(),
               static_cast<long long>(done_), static_cast<long long>(total_), mean_loss(), items_per_second(),
               unit_.c_str());
  std::fflush(stderr);
}

}  // namespace examples
