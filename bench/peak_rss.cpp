// Peak resident memory of many toy training steps, to show the graph is freed every step:
//
//   xgrad_peak_rss [steps] [workload]      default 10000 toy
//
// Prints the peak RSS (getrusage ru_maxrss) after 100 steps and after every tenfold more, so one run
// compares 100 steps with 10,000; a leak of even one small tensor per step would show as growth.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "workloads.hpp"

namespace {

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
  const long steps = argc > 1 ? std::atol(argv[1]) : 10000;
  const std::string name = argc > 2 ? argv[2] : "toy";
  xgrad::bench::Trainer trainer(xgrad::bench::workload(name));
  std::printf("workload %s, %ld steps\n", name.c_str(), steps);
  long checkpoint = 100;
  float loss = 0.f;
  for (long step = 1; step <= steps; ++step) {
    loss = trainer.step();
    if (step == checkpoint || step == steps) {
      std::printf("after %6ld steps: peak RSS %ld KiB, loss %.4f\n", step, peak_rss_kib(), loss);
      if (step == checkpoint) checkpoint *= 10;
    }
  }
  return 0;
}
