#include <xgrad/core/tensor_options.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>

namespace xgrad {

std::ostream& operator<<(std::ostream& out, const Device& device) {
  out << (device.is_cpu() ? "cpu" : "cuda");
  if (device.index() >= 0) out << ':' << device.index();
  return out;
}

std::ostream& operator<<(std::ostream& out, DeviceType type) { return out << (type == kCPU ? "cpu" : "cuda"); }

std::ostream& operator<<(std::ostream& out, const TensorOptions& options) {
  out << "TensorOptions(dtype=" << options.dtype() << (options.has_dtype() ? "" : " (default)")
      << ", device=" << options.device() << ", layout=Strided, requires_grad=" << (options.requires_grad() ? "true" : "false")
      << (options.requires_grad() ? "" : " (default)") << ", pinned_memory=false (default), memory_format=(nullopt))";
  return out;
}

void check_cpu(const Device& device, const char* op) {
  if (!device.is_cpu())
    throw Error(concat(op, ": device ", device, " is not available; xgrad computes on the CPU only"));
}

}  // namespace xgrad
