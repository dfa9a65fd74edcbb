#pragma once
// The number of heap allocations (operator new calls) this test binary has made so far, so a test can
// show that a stretch of code makes none: allocation_count.cpp replaces the global operator new.
#include <cstddef>

namespace xgrad::testing {

std::size_t allocation_count();

}  // namespace xgrad::testing
