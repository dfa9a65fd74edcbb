#pragma once
// The instruction set of the engine_program target (engine_program.cpp): each instruction pops
// nothing, reads one or two values of a stack of tensors and pushes its result, so a program of a
// few bytes reaches long chains and values that are used several times.
#include <cstdint>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace xgrad::fuzz::engine {

// One op: `code` picks it from the table; `a` picks the operands (two bits each, counted from the
// top of the stack) and, with `b` and `c`, gives its arguments (dims, sizes, flags).
struct Instruction {
  std::uint8_t code = 0, a = 0, b = 0, c = 0;
};

// What one run of a program tells about the point where it ran, beyond its result.
struct Watch {
  // The side of every kink (relu's 0, the larger of maximum's two inputs, the order a sort found)
  // each element sits on. Finite differences are meaningful only when every perturbed run agrees
  // with the unperturbed one; a run that crossed a kink is no evidence against the gradient.
  std::vector<double> signature;
  // Set where finite differences cannot be trusted even without a kink: a pole nearby (1/x, log x
  // near 0), a non-finite or huge value.
  bool unreliable = false;
  // The program as it ran, one line per op, for the report of a finding (kept only when set).
  bool describe = false;
  std::vector<std::string> lines;
};

// The program's values, the leaves first; one instruction appends one value.
class Machine {
 public:
  Machine(const std::vector<Tensor>& leaves, Watch& watch) : stack(leaves), watch(watch) {}
  // The operand `bits` (0-3) selects, counted from the top of the stack.
  const Tensor& operand(unsigned bits) const { return stack[position(bits)]; }
  std::size_t position(unsigned bits) const { return stack.size() - 1 - (bits & 3u) % stack.size(); }
  void push(const Tensor& value);
  // The side of `at` each element of x is on (-1, 0, 1), into the signature.
  void sides(const Tensor& x, double at);
  // Any other discrete outcome of a run (a sort's order), into the signature.
  void outcome(const Tensor& indices);
  // Marks the point unreliable unless every element of x is at least `margin` away from `at`
  // (above it only, when `one_sided`: log, sqrt).
  void keep_away(const Tensor& x, double at, double margin, bool one_sided);
  template <class... Parts>
  void note(const Parts&... parts) {
    if (watch.describe) watch.lines.push_back(concat(parts...));
  }

  std::vector<Tensor> stack;
  Watch& watch;
};

struct Op {
  const char* name;
  void (*run)(Machine& machine, const Instruction& instruction);
};

// Every op a program may use; an instruction's code picks one modulo the table's size.
const std::vector<Op>& ops();

}  // namespace xgrad::fuzz::engine
