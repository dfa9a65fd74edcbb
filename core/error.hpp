#pragma once
// xgrad::Error and the helpers that build its messages. Every bad input in xgrad throws Error with a
// message that starts with the op's name and names the argument and the shapes or values involved:
//   "cross_entropy: target value 3 out of range for 3 classes at index 1"
#include <sstream>
#include <stdexcept>
#include <string>

namespace xgrad {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Streams every part into one string: concat("matmul: ", n, " vs ", m).
template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

// Throws Error(concat(parts...)) when the condition fails. The parts are streamed only on failure,
// but they are evaluated at the call: on a hot path, where a part such as shape_str(x.shape())
// allocates, write `if (!ok) throw Error(concat(...));` so that work happens only on failure.
template <class... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) throw Error(concat(parts...));
}

}  // namespace xgrad
