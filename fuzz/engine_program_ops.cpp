#include "engine_program_ops.hpp"

#include <cmath>
#include <limits>
#include <sstream>

namespace xgrad::fuzz::engine {

namespace {

using indexing::Ellipsis;
using indexing::None;
using indexing::Slice;
using indexing::TensorIndex;

// Arguments are decoded so that most are valid for the tiny tensors a program holds and a few are
// not (a dim past the rank, a size of -1 or 0, a step of 0): the invalid ones must give an Error.
std::int64_t dim_of(unsigned byte) { return static_cast<std::int64_t>(byte % 9) - 4; }
std::int64_t size_of(unsigned nibble) { return static_cast<std::int64_t>(nibble % 6) - 1; }
double scalar_of(unsigned byte) { return (static_cast<double>(byte) - 128.0) / 32.0; }
Reduction reduction_of(unsigned byte) {
  static const Reduction all[] = {kNone, kMean, kSum};
  return all[byte % 3];
}

// Up to four sizes, one per nibble of b and c.
std::vector<std::int64_t> sizes_of(unsigned count, const Instruction& in) {
  const unsigned b = in.b, c = in.c;
  const unsigned nibbles[] = {b & 15u, b >> 4u, c & 15u, c >> 4u};
  std::vector<std::int64_t> sizes;
  for (unsigned k = 0; k < count % 5; ++k) sizes.push_back(size_of(nibbles[k]));
  return sizes;
}

// The tensors an op takes besides its operands (class targets, masks, index lists) are fixed by
// the instruction's bytes, so every run of a program sees the same ones.
std::uint64_t next(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t seed_of(const Instruction& in) {
  return static_cast<std::uint64_t>(in.code) << 24 | static_cast<std::uint64_t>(in.a) << 16 |
         static_cast<std::uint64_t>(in.b) << 8 | in.c;
}
Tensor integers(const Shape& shape, std::int64_t bound, std::uint64_t seed) {
  std::vector<std::int64_t> values(static_cast<std::size_t>(numel_of(shape)));
  for (std::int64_t& v : values) v = static_cast<std::int64_t>(next(seed) % static_cast<std::uint64_t>(std::max<std::int64_t>(bound, 1)));
  return from_buffer(values.data(), shape);
}
Tensor flags(const Shape& shape, std::uint64_t seed) {
  std::vector<std::uint8_t> values(static_cast<std::size_t>(numel_of(shape)));
  for (std::uint8_t& v : values) v = static_cast<std::uint8_t>(next(seed) & 1);
  return from_buffer(values.data(), shape).to(kBool);
}

std::string str(const Tensor& x) { return shape_str(x.shape()); }
std::string str(const std::vector<std::int64_t>& values) { return shape_str(Shape(values.begin(), values.end())); }
std::string str(const std::optional<std::int64_t>& value) { return value ? std::to_string(*value) : "None"; }

// The operands' names in the dump: v0, v1, ... in stack order.
std::string name(const Machine& m, unsigned bits) {
  return "v" + std::to_string(m.position(bits));
}

// ---- arithmetic -------------------------------------------------------------------------------

void binary(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const Tensor& y = m.operand(in.a >> 2);
  static const char* names[] = {"add", "sub", "mul", "div", "maximum", "minimum", "add(alpha)"};
  const unsigned kind = in.b % 7;
  const double alpha = scalar_of(in.c);
  m.note(names[kind], "(", name(m, in.a), ", ", name(m, in.a >> 2), kind == 6 ? concat(", alpha=", alpha) : "", ")");
  if (kind == 3) m.keep_away(y, 0.0, 0.05, false);
  if (kind == 4 || kind == 5) {
    NoGradGuard no_grad;
    m.sides(x - y, 0.0);
  }
  switch (kind) {
    case 0: return m.push(x + y);
    case 1: return m.push(x - y);
    case 2: return m.push(x * y);
    case 3: return m.push(x / y);
    case 4: return m.push(maximum(x, y));
    case 5: return m.push(minimum(x, y));
    default: return m.push(x.add(y, alpha));
  }
}

void with_scalar(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const double s = scalar_of(in.c);
  static const char* forms[] = {"x + s", "x * s", "s - x", "s / x", "x - s", "x / s"};
  const unsigned kind = in.b % 6;
  m.note(forms[kind], " with x=", name(m, in.a), ", s=", s);
  switch (kind) {
    case 0: return m.push(x + s);
    case 1: return m.push(x * s);
    case 2: return m.push(s - x);
    case 3: m.keep_away(x, 0.0, 0.05, false); return m.push(s / x);
    case 4: return m.push(x.sub(s));
    default: return m.push(x.div(s));
  }
}

void smooth_unary(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  static const char* names[] = {"exp", "tanh", "sigmoid", "sin", "cos", "atan", "neg", "gelu", "gelu(tanh)",
                                "silu", "softplus", "clone", "contiguous"};
  const unsigned kind = in.b % 13;
  m.note(names[kind], "(", name(m, in.a), ")");
  switch (kind) {
    case 0: return m.push(x.exp());
    case 1: return m.push(x.tanh());
    case 2: return m.push(x.sigmoid());
    case 3: return m.push(x.sin());
    case 4: return m.push(x.cos());
    case 5: return m.push(x.atan());
    case 6: return m.push(-x);
    case 7: return m.push(gelu(x));
    case 8: return m.push(gelu(x, "tanh"));
    case 9: return m.push(silu(x));
    case 10: return m.push(softplus(x, 1.0 + in.c % 3));
    case 11: return m.push(x.clone());
    default: return m.push(x.contiguous());
  }
}

// Functions with a pole or a branch point: finite differences near it are meaningless.
void singular_unary(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  static const double exponents[] = {2, 3, 0.5, -1, 1.5, 0, -2, 1};
  const double exponent = exponents[in.c % 8];
  const unsigned kind = in.b % 4;
  switch (kind) {
    case 0:
      m.note("log(", name(m, in.a), ")");
      m.keep_away(x, 0.0, 0.05, true);
      return m.push(x.log());
    case 1:
      m.note("sqrt(", name(m, in.a), ")");
      m.keep_away(x, 0.0, 0.05, true);
      return m.push(x.sqrt());
    case 2:
      m.note("log1p(", name(m, in.a), ")");
      m.keep_away(x, -1.0, 0.05, true);
      return m.push(x.log1p());
    default:
      m.note("pow(", name(m, in.a), ", ", exponent, ")");
      if (exponent != std::floor(exponent)) m.keep_away(x, 0.0, 0.05, true);
      else if (exponent < 0) m.keep_away(x, 0.0, 0.05, false);
      return m.push(x.pow(exponent));
  }
}

// Functions with a kink: their gradient jumps where the signature's sides change.
void kinked_unary(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  static const char* names[] = {"relu", "abs", "sign", "leaky_relu", "elu", "clamp"};
  const unsigned kind = in.b % 6;
  const unsigned bounds = (in.a >> 4) % 4;
  const double low = scalar_of(in.c) / 2, high = scalar_of(static_cast<std::uint8_t>(in.c * 37 + 11)) / 2;
  if (kind == 5) {
    m.note("clamp(", name(m, in.a), ", min=", bounds & 1 ? "None" : std::to_string(low), ", max=",
           bounds & 2 ? "None" : std::to_string(high), ")");
    m.sides(x, low);
    m.sides(x, high);
    const std::optional<Scalar> min = bounds & 1 ? std::nullopt : std::optional<Scalar>(low);
    const std::optional<Scalar> max = bounds & 2 ? std::nullopt : std::optional<Scalar>(high);
    return m.push(x.clamp(min, max));
  }
  m.note(names[kind], "(", name(m, in.a), ")");
  m.sides(x, 0.0);
  switch (kind) {
    case 0: return m.push(x.relu());
    case 1: return m.push(x.abs());
    case 2: return m.push(x.sign());
    case 3: return m.push(leaky_relu(x, 0.1));
    default: return m.push(elu(x, 0.5));
  }
}

// ---- reductions -------------------------------------------------------------------------------

void reduce(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const std::int64_t dim = dim_of(in.b);
  const bool keepdim = in.c & 1, whole = in.c & 2, unbiased = in.c & 4;
  static const char* names[] = {"sum", "mean", "logsumexp", "var", "std", "cumsum", "cumprod", "softmax",
                                "log_softmax", "norm"};
  const unsigned kind = (in.a >> 4) % 10;
  if (whole && kind <= 4)
    m.note(names[kind], "(", name(m, in.a), kind >= 3 ? concat(", unbiased=", unbiased) : "", ")");
  else
    m.note(names[kind], "(", name(m, in.a), ", dim=", dim, ", keepdim=", keepdim, ", unbiased=", unbiased, ")");
  switch (kind) {
    case 0: return m.push(whole ? x.sum() : x.sum(dim, keepdim));
    case 1: return m.push(whole ? x.mean() : x.mean(dim, keepdim));
    case 2: return m.push(x.logsumexp(dim, keepdim));
    case 3: return m.push(whole ? x.var(unbiased) : x.var(dim, unbiased, keepdim));
    case 4: {
      const Tensor out = whole ? x.std(unbiased) : x.std(dim, unbiased, keepdim);
      m.keep_away(out, 0.0, 0.05, true);  // d std / dx is 1 / std
      return m.push(out);
    }
    case 5: return m.push(x.cumsum(dim));
    case 6: return m.push(x.cumprod(dim));
    case 7: return m.push(x.softmax(dim));
    case 8: return m.push(x.log_softmax(dim));
    default: {
      const double p = whole ? 2.0 : unbiased ? 1.0 : 3.0;
      if (p == 1.0) m.sides(x, 0.0);
      const Tensor out = whole ? x.norm(p) : x.norm(p, dim, keepdim);
      m.keep_away(out, 0.0, 0.05, true);  // the norm is not differentiable at 0
      return m.push(out);
    }
  }
}

// The largest and smallest elements, sorts: which element wins is part of the signature.
void select_by_order(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const std::int64_t dim = dim_of(in.b);
  const bool flag = in.c & 1;
  const unsigned kind = (in.a >> 4) % 5;
  switch (kind) {
    case 0: {
      m.note(flag ? "min(" : "max(", name(m, in.a), ")");
      const Tensor out = flag ? x.min() : x.max();
      NoGradGuard no_grad;
      m.outcome(x.eq(out));
      return m.push(out);
    }
    case 1: {
      m.note(flag ? "min(" : "max(", name(m, in.a), ", dim=", dim, ", keepdim=", bool(in.c & 2), ").values");
      auto [values, indices] = flag ? x.min(dim, in.c & 2) : x.max(dim, in.c & 2);
      m.outcome(indices);
      return m.push(values);
    }
    case 2: {
      m.note("sort(", name(m, in.a), ", dim=", dim, ", descending=", flag, ").values");
      auto [values, indices] = x.sort(dim, flag);
      m.outcome(indices);
      return m.push(values);
    }
    case 3: {
      const std::int64_t k = (in.c >> 1) % 5;
      m.note("topk(", name(m, in.a), ", k=", k, ", dim=", dim, ", largest=", flag, ").values");
      auto [values, indices] = x.topk(k, dim, flag);
      // topk's choice depends on the order of all the elements, not only of those it returns.
      {
        NoGradGuard no_grad;
        m.outcome(x.argsort(dim, flag));
      }
      m.outcome(indices);
      return m.push(values);
    }
    default: {
      m.note("sort(", name(m, in.a), ", stable, dim=", dim, ").values then argsort");
      auto [values, indices] = x.sort(true, dim, flag);
      m.outcome(indices);
      m.outcome(x.argsort(dim, flag));
      return m.push(values);
    }
  }
}

// ---- linear algebra ---------------------------------------------------------------------------

void product(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const Tensor& y = m.operand(in.a >> 2);
  static const char* names[] = {"matmul", "mm", "bmm", "transpose", "t", "outer"};
  const unsigned kind = in.b % 6;
  if (kind == 3)
    m.note("transpose(", name(m, in.a), ", ", dim_of(in.c), ", ", dim_of(in.c / 9), ")");
  else if (kind == 4)
    m.note("t(", name(m, in.a), ")");
  else
    m.note(names[kind], "(", name(m, in.a), ", ", name(m, in.a >> 2), ")");
  switch (kind) {
    case 0: return m.push(x.matmul(y));
    case 1: return m.push(x.mm(y));
    case 2: return m.push(x.bmm(y));
    case 3: return m.push(x.transpose(dim_of(in.c), dim_of(in.c / 9)));
    case 4: return m.push(x.t());
    default: return m.push(outer(x, y));
  }
}

// ---- losses -----------------------------------------------------------------------------------

// Class indices for scores x: the shape of x without its class dim, values in [0, C) and, when
// `past_the_end`, sometimes C itself, which must be refused.
Tensor class_targets(const Tensor& x, bool past_the_end, std::uint64_t seed) {
  Shape shape = x.shape();
  std::int64_t classes = 1;
  if (!shape.empty()) {
    const std::size_t class_dim = shape.size() == 1 ? 0 : 1;
    classes = static_cast<std::int64_t>(shape[class_dim]);
    shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(class_dim));
  }
  return integers(shape, classes + (past_the_end ? 1 : 0), seed);
}

void loss(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const Tensor& y = m.operand(in.a >> 2);
  const Reduction reduction = reduction_of(in.c);
  const unsigned kind = in.b % 8;
  const double parameter = static_cast<double>((in.c >> 2) % 4) * 0.5;  // beta / delta; 0 for some
  const std::string args = concat("(", name(m, in.a), ", ", name(m, in.a >> 2), ", ", reduction_name(reduction));
  switch (kind) {
    case 0: m.note("mse_loss", args, ")"); return m.push(mse_loss(x, y, reduction));
    case 1: {
      const double smoothing = static_cast<double>((in.c >> 4) % 3) * 0.1;
      const Tensor target = class_targets(x, in.c & 128, seed_of(in));
      m.note("cross_entropy(", name(m, in.a), ", target ", target.to_string(), ", ", reduction_name(reduction),
             ", label_smoothing=", smoothing, ")");
      return m.push(cross_entropy_loss(x, target, {}, reduction, -100, smoothing));
    }
    case 2: {
      const Tensor target = class_targets(x, in.c & 128, seed_of(in));
      m.note("nll_loss(", name(m, in.a), ", target ", target.to_string(), ", ", reduction_name(reduction), ")");
      return m.push(nll_loss(x, target, {}, reduction));
    }
    case 3:
      m.note("binary_cross_entropy_with_logits", args, ")");
      return m.push(binary_cross_entropy_with_logits(x, y, {}, {}, reduction));
    case 4: {
      m.note("smooth_l1_loss", args, ", beta=", parameter, ")");
      NoGradGuard no_grad;
      m.sides((x - y).abs(), parameter);  // at beta = 0 the L1 loss's kink; else where the pieces meet
      m.sides(x - y, 0.0);
      // At beta = 0 and d = 0 exactly, PyTorch's gradient is -g for the input and the target alike, a
      // convention rather than a derivative: when both depend on the leaves (smooth_l1(x, x), or
      // after minimum(x, y) picked x) the sum of the two is not what finite differences see.
      if (parameter == 0.0) m.keep_away(x - y, 0.0, 1e-12, false);
    }
      return m.push(smooth_l1_loss(x, y, reduction, parameter));
    case 5: {
      m.note("huber_loss", args, ", delta=", parameter, ")");
      NoGradGuard no_grad;
      m.sides((x - y).abs(), parameter);
    }
      return m.push(huber_loss(x, y, reduction, parameter));
    case 6: {
      m.note("l1_loss", args, ")");
      NoGradGuard no_grad;
      m.sides(x - y, 0.0);
    }
      return m.push(l1_loss(x, y, reduction));
    default: {
      m.note("kl_div", args, ", log_target=true)");
      // Its gradients -e^y g (input) and e^y g (target) cancel when input and target are one value,
      // and at e^y ~ 1e24 they absorb every other gradient that value receives on the way.
      NoGradGuard no_grad;
      m.keep_away(-y, -9.0, 0.0, true);
    }
      return m.push(kl_div(x, y, reduction, true));
  }
}

// ---- shapes -----------------------------------------------------------------------------------

void reshape_like(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const std::vector<std::int64_t> sizes = sizes_of(in.a >> 4, in);
  const unsigned kind = (in.a >> 4) / 5 % 3;
  static const char* names[] = {"reshape", "view", "expand"};
  m.note(names[kind], "(", name(m, in.a), ", ", str(sizes), ")");
  switch (kind) {
    case 0: return m.push(x.reshape(sizes));
    case 1: return m.push(x.view(sizes));
    default: return m.push(x.expand(sizes));
  }
}

// A permutation of x's dims picked by b (a Lehmer code), made invalid on purpose by some c.
void permute(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  std::vector<std::int64_t> left, dims;
  for (std::int64_t d = 0; d < x.dim(); ++d) left.push_back(d);
  unsigned code = in.b;
  while (!left.empty()) {
    const std::size_t pick = code % left.size();
    code /= static_cast<unsigned>(left.size());
    dims.push_back(left[pick]);
    left.erase(left.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  if (!dims.empty() && in.c % 8 == 7) dims[0] = static_cast<std::int64_t>(dims.size());
  if (!dims.empty() && in.c % 8 == 6) dims.back() -= static_cast<std::int64_t>(dims.size());  // negative, valid
  if (in.c % 8 == 5) dims.push_back(0);
  m.note("permute(", name(m, in.a), ", ", str(dims), ")");
  m.push(x.permute(dims));
}

void dims_op(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const std::int64_t d0 = dim_of(in.b), d1 = dim_of(in.c);
  static const char* names[] = {"unsqueeze", "squeeze(dim)", "squeeze", "flatten", "flip", "roll", "tril", "triu",
                                "diagonal", "movedim-by-transpose"};
  const unsigned kind = (in.a >> 4) % 10;
  const std::int64_t offset = static_cast<std::int64_t>(in.c % 5) - 2;
  m.note(names[kind], "(", name(m, in.a), ", d0=", d0, ", d1=", d1, ", offset=", offset, ")");
  switch (kind) {
    case 0: return m.push(x.unsqueeze(d0));
    case 1: return m.push(x.squeeze(d0));
    case 2: return m.push(x.squeeze());
    case 3: return m.push(x.flatten(d0, d1));
    case 4: return m.push(x.flip(std::vector<std::int64_t>{d0}));
    case 5: return m.push(x.roll(std::vector<std::int64_t>{offset}, std::vector<std::int64_t>{d0}));
    case 6: return m.push(x.tril(offset));
    case 7: return m.push(x.triu(offset));
    case 8: return m.push(x.diagonal(offset, d0, d1));
    default: return m.push(x.transpose(d0, d1).contiguous());
  }
}

void join(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const Tensor& y = m.operand(in.a >> 2);
  const std::int64_t dim = dim_of(in.b);
  const bool stacked = in.c & 1;
  m.note(stacked ? "stack" : "cat", "({", name(m, in.a), ", ", name(m, in.a >> 2), "}, dim=", dim, ")");
  m.push(stacked ? stack({x, y}, dim) : cat({x, y}, dim));
}

void repeat(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  std::vector<std::int64_t> repeats = sizes_of(in.a >> 4, in);
  for (std::int64_t& r : repeats) r = r < 0 ? r : r % 3;  // small, so that values stay tiny
  const bool interleave = in.c & 128;
  if (interleave) {
    const std::int64_t times = static_cast<std::int64_t>(in.b % 4), dim = dim_of(in.c);
    m.note("repeat_interleave(", name(m, in.a), ", ", times, ", dim=", dim, ")");
    return m.push(x.repeat_interleave(times, dim));
  }
  m.note("repeat(", name(m, in.a), ", ", str(repeats), ")");
  m.push(x.repeat(repeats));
}

// ---- views and indexing -----------------------------------------------------------------------

void pick(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const std::int64_t dim = dim_of(in.b);
  const std::int64_t start = static_cast<std::int64_t>(in.c % 9) - 4;
  const std::int64_t length = static_cast<std::int64_t>(in.c / 9 % 5) - 1;
  const std::int64_t step = (in.c >> 6) % 4;  // 0 must be refused
  const unsigned kind = (in.a >> 4) % 6;
  switch (kind) {
    case 0:
      m.note("select(", name(m, in.a), ", ", dim, ", ", start, ")");
      return m.push(x.select(dim, start));
    case 1:
      m.note("narrow(", name(m, in.a), ", ", dim, ", ", start, ", ", length, ")");
      return m.push(x.narrow(dim, start, length));
    case 2: {
      const std::optional<std::int64_t> end = length < 0 ? std::nullopt : std::optional<std::int64_t>(start + length + 1);
      m.note("slice(", name(m, in.a), ", ", dim, ", ", start, ", ", str(end), ", step=", step, ")");
      return m.push(x.slice(dim, start, end, step));
    }
    case 3: {
      const std::int64_t chunks = static_cast<std::int64_t>(in.c % 4);
      const std::vector<Tensor> pieces = x.chunk(chunks, dim);
      m.note("chunk(", name(m, in.a), ", ", chunks, ", ", dim, ")[last]");
      return m.push(pieces.empty() ? x.sum() : pieces.back());
    }
    case 4: {
      const std::vector<Tensor> pieces = x.unbind(dim);
      const std::size_t which = in.c % std::max<std::size_t>(pieces.size(), 1);
      m.note("unbind(", name(m, in.a), ", ", dim, ")[", which, "]");
      return m.push(pieces.empty() ? x.sum() : pieces[which]);
    }
    default: {
      const std::int64_t size = static_cast<std::int64_t>(in.c % 4), unfold_step = (in.c >> 2) % 3;
      m.note("unfold(", name(m, in.a), ", ", dim, ", size=", size, ", step=", unfold_step, ")");
      return m.push(x.unfold(dim, size, unfold_step));
    }
  }
}

// One entry of x.index({...}): an integer, a Slice, None, "..." or a bool.
TensorIndex index_entry(unsigned byte) {
  const unsigned value = byte / 5;
  switch (byte % 5) {
    case 0: return TensorIndex(static_cast<std::int64_t>(value % 7) - 3);
    case 1: {
      const std::optional<std::int64_t> start = value % 4 == 3 ? None : std::optional<std::int64_t>(value % 4 - 1);
      const std::optional<std::int64_t> stop = value / 4 % 4 == 0 ? None : std::optional<std::int64_t>(value / 4 % 4);
      return Slice(start, stop, static_cast<std::int64_t>(value / 16 % 3 + 1));
    }
    case 2: return None;
    case 3: return Ellipsis;
    default: return TensorIndex(value % 2 == 1);
  }
}

std::vector<TensorIndex> indices_of(const Instruction& in) {
  std::vector<TensorIndex> entries;
  const unsigned bytes[] = {in.b, in.c, static_cast<unsigned>(in.b ^ in.c)};
  for (unsigned k = 0; k < (in.a >> 4) % 4; ++k) entries.push_back(index_entry(bytes[k]));
  return entries;
}

std::string str(const std::vector<TensorIndex>& entries) {
  std::ostringstream out;
  out << entries;
  return out.str();
}

void index(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const std::vector<TensorIndex> entries = indices_of(in);
  m.note(name(m, in.a), ".index(", str(entries), ")");
  m.push(x.index(entries));
}

// Picks by tensors fixed by the instruction: gather, index_select, where, masked_fill, index_add.
void gather_like(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const Tensor& y = m.operand(in.a >> 2);
  const std::int64_t dim = dim_of(in.b);
  const bool past_the_end = in.c & 1;
  const std::int64_t bound = x.dim() == 0 ? 1 : x.size(std::max<std::int64_t>(-x.dim(), std::min(dim, x.dim() - 1)));
  const std::uint64_t seed = seed_of(in);
  const unsigned kind = (in.a >> 4) % 5;
  switch (kind) {
    case 0: {
      const Tensor index = integers(x.shape(), bound + past_the_end, seed);
      m.note("gather(", name(m, in.a), ", ", dim, ", ", index.to_string(), ")");
      return m.push(x.gather(dim, index));
    }
    case 1: {
      const Tensor index = integers({static_cast<std::int64_t>((in.c >> 1) % 4)}, bound + past_the_end, seed);
      m.note("index_select(", name(m, in.a), ", ", dim, ", ", index.to_string(), ")");
      return m.push(x.index_select(dim, index));
    }
    case 2: {
      const Tensor condition = flags(x.shape(), seed);
      m.note("where(", condition.to_string(), ", ", name(m, in.a), ", ", name(m, in.a >> 2), ")");
      return m.push(where(condition, x, y));
    }
    case 3: {
      const Tensor mask = flags(x.shape(), seed);
      m.note("masked_fill(", name(m, in.a), ", ", mask.to_string(), ", ", scalar_of(in.c), ")");
      return m.push(x.masked_fill(mask, scalar_of(in.c)));
    }
    default: {
      const std::int64_t count = y.dim() == 0 ? 1 : y.size(std::max<std::int64_t>(-y.dim(), std::min(dim, y.dim() - 1)));
      const Tensor index = integers({count}, bound + past_the_end, seed);
      m.note("index_add(", name(m, in.a), ", ", dim, ", ", index.to_string(), ", ", name(m, in.a >> 2), ")");
      return m.push(x.index_add(dim, index, y));
    }
  }
}

// ---- in place ---------------------------------------------------------------------------------

// The part of x an in-place op writes: x itself or one of its views.
Tensor view_to_write(const Tensor& x, unsigned kind, std::string& described) {
  switch (kind % 6) {
    case 0: described = "itself"; return x;
    case 1: described = "slice(0, 1)"; return x.slice(0, 1);
    case 2: described = "select(0, 0)"; return x.select(0, 0);
    case 3: described = "transpose(0, -1)"; return x.transpose(0, -1);
    case 4: described = "index({..., Slice(None, None, 2)})"; return x.index({Ellipsis, Slice(None, None, 2)});
    default: described = "diagonal()"; return x.diagonal();
  }
}

void in_place(Machine& m, const Instruction& in) {
  const Tensor& x = m.operand(in.a);
  const Tensor& y = m.operand(in.a >> 2);
  std::string where_written;
  const Tensor part = view_to_write(x, in.b, where_written);
  const double s = scalar_of(in.c);
  static const char* names[] = {"add_(y)", "mul_(s)", "clamp_(min=s)", "relu_()", "fill_(s)", "zero_()", "copy_(y)",
                                "div_(s)", "index_put_({Slice(0, 2)}, y)", "mul_(y)", "sub_(y, alpha=s)"};
  const unsigned kind = (in.b / 6) % 11;
  m.note(name(m, in.a), " written in place through ", where_written, ": ", names[kind], " with y=",
         name(m, in.a >> 2), ", s=", s, "; the result is ", in.c & 1 ? "the view" : "the base");
  switch (kind) {
    case 0: part.add_(y); break;
    case 1: part.mul_(s); break;
    case 2:
      m.sides(part, s);
      part.clamp_(s);
      break;
    case 3:
      m.sides(part, 0.0);
      part.relu_();
      break;
    case 4: part.fill_(s); break;
    case 5: part.zero_(); break;
    case 6: part.copy_(y); break;
    case 7: part.div_(s == 0 ? 1.0 : s); break;
    case 8: part.index_put_({Slice(0, 2)}, y); break;
    case 9: part.mul_(y); break;
    default: part.sub_(y, s); break;
  }
  m.push(in.c & 1 ? part : x);
}

}  // namespace

void Machine::push(const Tensor& value) {
  // Keeps every run of the fuzzer fast; no op needs large tensors to go wrong.
  check(value.numel() <= 4096, "engine_program: a value of ", value.numel(), " elements is too large to fuzz");
  if (watch.describe) watch.lines.back() = concat("v", stack.size(), " = ", watch.lines.back(), " -> ", str(value));
  if (value.dtype() == kFloat64) {
    NoGradGuard no_grad;
    for (const double v : value.to_vector<double>())
      if (!std::isfinite(v) || std::abs(v) > 1e4) watch.unreliable = true;
  }
  stack.push_back(value);
}

void Machine::sides(const Tensor& x, double at) {
  NoGradGuard no_grad;
  for (const double v : x.to_vector<double>()) watch.signature.push_back(v > at ? 1.0 : v < at ? -1.0 : 0.0);
}

void Machine::outcome(const Tensor& indices) {
  NoGradGuard no_grad;
  const Tensor as_int = indices.to(kInt64);
  for (const std::int64_t v : as_int.to_vector<std::int64_t>()) watch.signature.push_back(static_cast<double>(v));
  watch.signature.push_back(std::numeric_limits<double>::infinity());  // ends this op's part
}

void Machine::keep_away(const Tensor& x, double at, double margin, bool one_sided) {
  NoGradGuard no_grad;
  for (const double v : x.to_vector<double>())
    if (one_sided ? v < at + margin : std::abs(v - at) < margin) watch.unreliable = true;
}

const std::vector<Op>& ops() {
  static const std::vector<Op> table = {
      {"binary", binary},         {"with_scalar", with_scalar}, {"smooth_unary", smooth_unary},
      {"singular_unary", singular_unary}, {"kinked_unary", kinked_unary}, {"reduce", reduce},
      {"select_by_order", select_by_order}, {"product", product}, {"loss", loss},
      {"reshape_like", reshape_like}, {"permute", permute}, {"dims_op", dims_op},
      {"join", join},             {"repeat", repeat},           {"pick", pick},
      {"index", index},           {"gather_like", gather_like}, {"in_place", in_place},
  };
  return table;
}

}  // namespace xgrad::fuzz::engine
