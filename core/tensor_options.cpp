#include "core/tensor_options.hpp"

#include <ostream>

#include "core/error.hpp"

namespace xgrad {

std::ostream& operator<<(std::ostream& out, const Device& device) {
  out << (device.is_cpu() ? "cpu" : "cuda");
  if (device.index() >= 0) out << ':' << device.index();
  return out;
}

void check_cpu(const Device& device, const char* op) {
  if (!device.is_cpu())
    throw Error(concat(op, ": device ", device, " is not available; xgrad computes on the CPU only"));
}

}  // namespace xgrad
