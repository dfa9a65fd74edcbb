#pragma once
// Library-internal: the element-moving kernels shared by the indexing and shape ops.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace xgrad {

// Copies n contiguous elements. Picks along the last dim move runs of one element, millions of
// them; std::copy_n would make each a call to memmove (~20x slower than the plain assignment).
template <class T>
inline void copy_run(const T* from, std::size_t n, T* to) {
  if (n == 1) *to = *from;
  else std::copy_n(from, n, to);
}

// pick ? yes : no, without a branch. A random mask mispredicts a branch half the time, which made a
// masked_fill loop ~10x slower; selecting between the two bit patterns costs the same for any mask
// (and keeps NaN and infinities intact, which arithmetic blending would not).
template <class T>
inline T blend(bool pick, T yes, T no) {
  using Bits = std::conditional_t<sizeof(T) == 8, std::uint64_t,
                                  std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint8_t>>;
  static_assert(sizeof(Bits) == sizeof(T), "blend needs a 1, 4 or 8 byte element");
  Bits y, n;
  std::memcpy(&y, &yes, sizeof(T));
  std::memcpy(&n, &no, sizeof(T));
  const Bits mask = static_cast<Bits>(Bits(0) - static_cast<Bits>(pick));
  const Bits chosen = static_cast<Bits>((y & mask) | (n & static_cast<Bits>(~mask)));
  T out;
  std::memcpy(&out, &chosen, sizeof(T));
  return out;
}

}  // namespace xgrad
