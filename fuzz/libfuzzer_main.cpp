// libFuzzer's entry for one target, chosen at build time (XGRAD_FUZZ_TARGET, set by
// fuzz/CMakeLists.txt). A finding is reported as a crash, so that libFuzzer saves the input.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const xgrad::fuzz::Target& target = xgrad::fuzz::target_named(XGRAD_FUZZ_TARGET);
  try {
    target.run(data, size);
  } catch (const std::exception& finding) {
    std::fprintf(stderr, "fuzz target %s: %s\n", target.name, finding.what());
    std::abort();
  }
  return 0;
}
