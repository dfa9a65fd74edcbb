#pragma once
// XGRAD_ARG(T, name): one field of an options struct with libtorch's chainable setter and getters,
// as TORCH_ARG declares them:
//
//   struct AdamOptions {
//     XGRAD_ARG(double, lr) = 1e-3;     // AdamOptions().lr(0.01).lr() == 0.01
//   };
//
// expands to a private member `lr_` (initialised by what follows the macro), a setter `lr(value)`
// that returns *this so calls chain, and getters `lr()` (const and non-const references). The
// access specifier after the macro is private, as after TORCH_ARG.
#include <utility>

#define XGRAD_ARG(T, name)                             \
 public:                                               \
  inline auto name(const T& new_##name)->decltype(*this) { \
    this->name##_ = new_##name;                        \
    return *this;                                      \
  }                                                    \
  inline auto name(T&& new_##name)->decltype(*this) {  \
    this->name##_ = std::move(new_##name);             \
    return *this;                                      \
  }                                                    \
  inline const T& name() const noexcept { return this->name##_; } \
  inline T& name() noexcept { return this->name##_; }  \
                                                       \
 private:                                              \
  T name##_
