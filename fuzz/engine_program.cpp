// A random program of ops on float64 tensors, decoded from the input:
//   header (1 byte)  bits 0-1: leaves - 1 (3 reads as 1 leaf); bits 2-3: how leaf values are made
//                    (0, 3: seeded uniform in [-2, 2]; 1: seeded multiples of 1/2 in [-2, 2], which
//                    gives ties and zeros; 2: read from the input); bit 4: backward twice (create_graph)
//   seed (1 byte)    for the seeded values
//   per leaf         rank (1 byte, mod 4), then one byte per dim (mod 5: sizes 0-4); in value mode 2
//                    one byte per element, (byte - 128) / 64
//   instructions     4 bytes each (op, a, b, c), at most 8, until the input ends: the op byte picks a
//                    family from engine_program_ops.cpp's table, a picks the operands on the stack of
//                    values (2 bits each) and a variant (high nibble), b and c the arguments.
// The program's result is the sum of every value it made, each weighted by fixed random numbers, so
// a wrong gradient anywhere along the stack shows. Promises checked:
//   - bad arguments (and there are many: dims past the rank, shapes that do not broadcast) give an
//     xgrad::Error, and afterwards the engine still computes a right gradient;
//   - backward (and, with bit 4, a second backward through create_graph) runs wherever forward did;
//   - where the program's point is fit for finite differences (see Watch in engine_program_ops.hpp),
//     gradcheck passes.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine_program_ops.hpp"
#include "fuzz.hpp"

namespace xgrad::fuzz {

namespace {

using engine::Instruction;
using engine::Machine;
using engine::Watch;

constexpr std::size_t kMaxInstructions = 8;
// Each gradcheck runs the program twice per leaf element; more would slow the fuzzer down.
constexpr std::int64_t kMaxCheckedElements = 64;

struct Program {
  std::vector<Shape> shapes;
  std::vector<std::vector<double>> values;
  bool second_order = false;
  std::vector<Instruction> instructions;
};

std::uint64_t next(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Program decode(Reader& input) {
  Program program;
  const std::uint8_t header = input.byte();
  std::uint64_t seed = input.byte();
  const std::size_t leaves = std::max(header & 3u, 1u);
  const unsigned value_mode = header >> 2 & 3u;
  program.second_order = header >> 4 & 1u;
  for (std::size_t leaf = 0; leaf < leaves; ++leaf) {
    Shape shape(input.byte() % 4);
    for (std::int64_t& size : shape) size = input.byte() % 5;
    std::vector<double> values(static_cast<std::size_t>(numel_of(shape)));
    for (double& v : values) {
      if (value_mode == 2) v = (static_cast<double>(input.byte()) - 128.0) / 64.0;
      else if (value_mode == 1) v = static_cast<double>(next(seed) % 9) / 2.0 - 2.0;
      else v = static_cast<double>(next(seed) % 40001) / 10000.0 - 2.0;
    }
    program.shapes.push_back(shape);
    program.values.push_back(values);
  }
  while (!input.empty() && program.instructions.size() < kMaxInstructions) {
    Instruction in;
    in.code = input.byte();
    in.a = input.byte();
    in.b = input.byte();
    in.c = input.byte();
    program.instructions.push_back(in);
  }
  return program;
}

std::vector<Tensor> make_leaves(const Program& program) {
  std::vector<Tensor> leaves;
  for (std::size_t k = 0; k < program.shapes.size(); ++k) {
    Tensor leaf = from_buffer(program.values[k].data(), program.shapes[k]);
    leaf.requires_grad_();
    leaves.push_back(leaf);
  }
  return leaves;
}

Tensor fixed_weights(const Shape& shape, std::uint64_t seed) {
  std::vector<double> values(static_cast<std::size_t>(numel_of(shape)));
  for (double& v : values) v = static_cast<double>(next(seed) % 2001) / 1000.0 - 1.0;
  return from_buffer(values.data(), shape);
}

Tensor run(const Program& program, const std::vector<Tensor>& leaves, Watch& watch) {
  Machine machine(leaves, watch);
  for (const Instruction& in : program.instructions) {
    const engine::Op& op = engine::ops()[in.code % engine::ops().size()];
    op.run(machine, in);
  }
  Tensor total = tensor(0.0, kFloat64);
  for (std::size_t k = 0; k < machine.stack.size(); ++k) {
    const Tensor& value = machine.stack[k];
    total = total + (value * fixed_weights(value.shape(), k)).sum();
  }
  return total;
}

std::string dump(const Program& program) {
  std::ostringstream out;
  for (std::size_t k = 0; k < program.shapes.size(); ++k) {
    out << "\n  v" << k << " = leaf " << shape_str(program.shapes[k]) << ":";
    for (const double v : program.values[k]) out << " " << v;
  }
  Watch described;
  described.describe = true;
  try {
    run(program, make_leaves(program), described);
  } catch (const Error& error) {
    out << "\n  (rerun failed: " << error.what() << ")";
  }
  for (const std::string& line : described.lines) out << "\n  " << line;
  return out.str();
}

// A bad argument must leave nothing behind: grad mode as it was, and a plain backward still right.
void check_engine_still_works() {
  if (!GradMode::is_enabled()) throw Finding("engine_program: grad mode was left off after an Error");
  Tensor x = tensor({1.0, -2.0, 0.5}, kFloat64);
  x.requires_grad_();
  ((x * x).sum() + x.sin().mean()).backward();
  const Tensor expected = 2.0 * x.detach() + x.detach().cos() / 3.0;
  if (!x.grad().defined() || !x.grad().allclose(expected, 1e-12, 1e-12))
    throw Finding("engine_program: after an Error, the gradient of sum(x^2) + mean(sin x) is wrong");
}

// Both backward passes run, with create_graph the second through the recorded first one. Only
// their not crashing is checked here; gradgradcheck is the op tests' job.
std::vector<Tensor> backward_twice(const Tensor& total, const std::vector<Tensor>& leaves) {
  const std::vector<Tensor> grads = autograd::grad({total}, leaves, {}, true, true, true);
  Tensor again = tensor(0.0, kFloat64);
  for (std::size_t k = 0; k < grads.size(); ++k)
    if (grads[k].defined()) again = again + (grads[k] * fixed_weights(grads[k].shape(), 100 + k)).sum();
  if (again.requires_grad()) again.backward();
  return grads;
}

// Where the program is steep, a step of 1e-6 in a leaf moves its values far enough for curvature
// (sin of a cube of 1/x) to swamp a central difference; no step size suits every program.
bool steep(const std::vector<Tensor>& gradients) {
  NoGradGuard no_grad;
  for (const Tensor& gradient : gradients)
    if (gradient.defined())
      for (const double g : gradient.to_vector<double>())
        if (!(std::abs(g) <= 1e3)) return true;
  return false;
}

void check_gradient(const Program& program, const std::vector<Tensor>& leaves, const Watch& base) {
  bool crossed_a_kink = false;
  const auto program_of_leaves = [&](const std::vector<Tensor>& inputs) {
    Watch watch;
    Tensor total = run(program, inputs, watch);
    if (watch.signature != base.signature) crossed_a_kink = true;
    return total;
  };
  const GradcheckResult result = gradcheck(program_of_leaves, leaves);
  if (result || crossed_a_kink) return;
  // A second step size must agree: a real error in a gradient does not depend on it, while the
  // truncation and rounding errors of finite differences do.
  const GradcheckResult confirmed = gradcheck(program_of_leaves, leaves, 1e-5);
  if (confirmed || crossed_a_kink) return;
  throw Finding("engine_program: " + result.report + dump(program));
}

}  // namespace

void engine_program(Bytes data, std::size_t size) {
  Reader input(data, size);
  const Program program = decode(input);
  const std::vector<Tensor> leaves = make_leaves(program);
  Watch base;
  std::vector<Tensor> gradients;
  try {
    const Tensor total = run(program, leaves, base);
    if (program.second_order) {
      gradients = backward_twice(total, leaves);
    } else {
      total.backward();
      for (const Tensor& leaf : leaves) gradients.push_back(leaf.grad());
    }
  } catch (const Error&) {
    check_engine_still_works();
    return;
  }
  std::int64_t elements = 0;
  for (const Tensor& leaf : leaves) elements += leaf.numel();
  if (base.unreliable || elements > kMaxCheckedElements || steep(gradients)) return;
  try {
    check_gradient(program, leaves, base);
  } catch (const Error&) {
    // Forward and backward ran once, so an Error now can only come from a run at a perturbed point,
    // which may step out of an op's domain.
    check_engine_still_works();
  }
}

}  // namespace xgrad::fuzz
