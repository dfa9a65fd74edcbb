#pragma once
// Anomaly detection, as torch::autograd::AnomalyMode / DetectAnomalyGuard: while it is on, each
// recorded node remembers the forward op that created it (in words), and a backward that produces
// a NaN or infinite gradient throws Error naming the node and that op, instead of letting the NaN
// reach the parameters. It costs a string per recorded op, so it is off by default.
namespace xgrad::autograd {

struct AnomalyMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// RAII: anomaly detection on while alive (nests; restores the previous setting).
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard() : previous_(AnomalyMode::is_enabled()) { AnomalyMode::set_enabled(true); }
  ~DetectAnomalyGuard() { AnomalyMode::set_enabled(previous_); }
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace xgrad::autograd
