#include <xgrad/core/grad_mode.hpp>

#include <atomic>

#include <xgrad/core/anomaly_mode.hpp>

namespace xgrad {

namespace {
thread_local bool grad_enabled = true;
}

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool enabled) { grad_enabled = enabled; }

}  // namespace xgrad

namespace xgrad::autograd {

namespace {
// Process-wide, as in PyTorch: a guard in main() covers the backward passes of every thread.
std::atomic<bool> anomaly_enabled{false};
}  // namespace

bool AnomalyMode::is_enabled() { return anomaly_enabled.load(std::memory_order_relaxed); }
void AnomalyMode::set_enabled(bool enabled) { anomaly_enabled.store(enabled, std::memory_order_relaxed); }

}  // namespace xgrad::autograd
