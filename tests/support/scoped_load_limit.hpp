#pragma once
// xgrad::set_max_loaded_elements for one scope, the previous limit restored at its end.
#include <cstdint>

#include <xgrad/core/load_limit.hpp>

namespace xgrad::testing {

class ScopedLoadLimit {
 public:
  explicit ScopedLoadLimit(std::int64_t count) : previous_(max_loaded_elements()) { set_max_loaded_elements(count); }
  ~ScopedLoadLimit() { set_max_loaded_elements(previous_); }
  ScopedLoadLimit(const ScopedLoadLimit&) = delete;
  ScopedLoadLimit& operator=(const ScopedLoadLimit&) = delete;

 private:
  std::int64_t previous_;
};

}  // namespace xgrad::testing
