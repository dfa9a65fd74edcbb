#include "fuzz.hpp"

namespace xgrad::fuzz {

void engine_program(Bytes, std::size_t) {}

}  // namespace xgrad::fuzz
