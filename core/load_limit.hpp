#pragma once
// The largest tensor xgrad reads from a file, in elements.
//
// A file says how large its arrays are (an IDX header's counts, a .npy header's shape) before their
// data follow. Every reader (data::datasets::MNIST, xgrad::load) checks such a claim against the
// bytes the file really holds and against this limit before it allocates anything for it, so a
// damaged or hostile file ends in an Error naming the claim, not in an attempt to allocate terabytes.
// The default, 2^31 elements (8 GiB of float32), is far above the tensors xgrad trains; raise it for
// a larger one:
//
//   xgrad::set_max_loaded_elements(std::int64_t{1} << 33);
#include <cstdint>

namespace xgrad {

std::int64_t max_loaded_elements() noexcept;
// Throws Error for a count below 1. Applies to every thread from the next read on.
void set_max_loaded_elements(std::int64_t count);

}  // namespace xgrad
