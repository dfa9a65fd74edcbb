#include <xgrad/ops/linalg.hpp>

#include <algorithm>
#include <cstring>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/gemm.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// ---- gemm on contiguous row-major buffers -------------------------------------------------------
//
// Every product below is one call on contiguous buffers; a transposed operand is a transpose flag,
// never a transposed copy here. kernels/gemm.cpp picks libxsmm or OpenBLAS for each shape and keeps small
// products on the calling thread.

// c (m x n) = op(a) op(b) + beta c, where op(a) is m x k and op(b) is k x n. a is stored m x k, or
// k x m when trans_a; b is stored k x n, or n x k when trans_b. beta is 0 (overwrite; c may hold
// garbage) or 1 (accumulate).
template <class T>
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b, T beta,
          T* c) {
  const auto size = [](std::size_t value) { return static_cast<std::int64_t>(value); };
  // Qualified: the dispatching gemm with leading dimensions, not this template.
  xgrad::gemm(trans_a, trans_b, size(m), size(n), size(k), T(1), a, size(trans_a ? m : k), b, size(trans_b ? k : n),
              beta, c, size(n));
}

// The same product for every batch entry. A stride of 0 means the operand is shared by all entries;
// for c it means the entries' products are summed into it (c must then start zeroed).
template <class T>
void batched_gemm(std::size_t batch, bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                  const T* a, std::size_t a_stride, const T* b, std::size_t b_stride, T* c, std::size_t c_stride) {
  for (std::size_t i = 0; i < batch; ++i) {
    const T beta = (c_stride == 0 && i > 0) ? T(1) : T(0);
    gemm(trans_a, trans_b, m, n, k, a + i * a_stride, b + i * b_stride, beta, c + i * c_stride);
  }
}

// An uninitialised array (every element is written by a gemm with beta = 0), or a zeroed one for
// gradients that are accumulated over the batch.
template <class T>
Array<T> output_array(const Shape& shape, bool zeroed) {
  Array<T> out = Array<T>::from_shape(shape);
  if (zeroed) std::fill(out.begin(), out.end(), T(0));
  return out;
}

// Both operands floating and of one dtype; the message names the op and both dtypes.
void check_same_floating(const char* op, const char* name_a, const Tensor& a, const char* name_b, const Tensor& b) {
  check(a.defined() && b.defined(), op, ": ", a.defined() ? name_b : name_a, " is an undefined tensor");
  // Each dtype read once and named only on failure: linear and matmul run this on every call.
  const Dtype dtype_a = a.dtype(), dtype_b = b.dtype();
  if (is_floating(dtype_a) && dtype_a == dtype_b) return;
  if (!is_floating(dtype_a))
    throw Error(concat(op, ": ", name_a, " must be float32 or float64, got ", dtype_name(dtype_a)));
  if (!is_floating(dtype_b))
    throw Error(concat(op, ": ", name_b, " must be float32 or float64, got ", dtype_name(dtype_b)));
  throw Error(concat(op, ": ", name_a, " and ", name_b, " must have the same dtype, got ", dtype_name(dtype_a), " and ",
                     dtype_name(dtype_b)));
}

// ---- matmul ------------------------------------------------------------------------------------

// How a matmul maps onto gemm calls: `batch` products of (m x k) by (k x n). A 1-D operand is a
// single row (a) or column (b). An operand without batch dimensions has stride 0 (shared); when
// only a has them, its rows are folded into m so the whole product is one gemm.
struct MatmulPlan {
  std::size_t batch = 1, m = 1, k = 1, n = 1;
  bool a_batched = false, b_batched = false;
  Shape out_shape;
};

MatmulPlan plan_matmul(const Shape& a, const Shape& b) {
  // Messages are built only on failure: shape_str allocates, and this runs on every product.
  if (a.empty() || b.empty())
    throw Error(concat("matmul: both arguments need at least one dimension, got shapes ", shape_str(a), " and ",
                       shape_str(b)));
  MatmulPlan plan;
  plan.m = a.size() >= 2 ? a[a.size() - 2] : 1;
  const std::size_t a_inner = a.back();
  const std::size_t b_inner = b.size() >= 2 ? b[b.size() - 2] : b[0];
  plan.n = b.size() >= 2 ? b.back() : 1;
  if (a_inner != b_inner)
    throw Error(concat("matmul: shapes ", shape_str(a), " and ", shape_str(b), " cannot be multiplied (", a_inner,
                       " != ", b_inner, ")"));
  plan.k = a_inner;

  const Shape a_batch(a.begin(), a.end() - std::min<std::size_t>(a.size(), 2));
  const Shape b_batch(b.begin(), b.end() - std::min<std::size_t>(b.size(), 2));
  if (!a_batch.empty() && !b_batch.empty() && a_batch != b_batch)
    throw Error(concat("matmul: batch dimensions of shapes ", shape_str(a), " and ", shape_str(b), " differ (",
                       shape_str(a_batch), " vs ", shape_str(b_batch),
                       "); they must be equal, or one operand must be 1-D or 2-D"));
  plan.out_shape = a_batch.empty() ? b_batch : a_batch;
  if (a.size() >= 2) plan.out_shape.push_back(plan.m);
  if (b.size() >= 2) plan.out_shape.push_back(plan.n);

  plan.a_batched = !a_batch.empty();
  plan.b_batched = !b_batch.empty();
  plan.batch = numel_of(a_batch.empty() ? b_batch : a_batch);
  if (plan.a_batched && !plan.b_batched) {  // [*, m, k] x [k, n]: all rows of a in one gemm
    plan.m *= plan.batch;
    plan.batch = 1;
    plan.a_batched = false;
  }
  return plan;
}

// For the create_graph path of matmul: a gradient computed per batch entry for an operand that
// every entry shared is summed over the batch, and a vector operand made a matrix gets its shape back.
Tensor summed_to_operand(const Tensor& grad, const Tensor& operand) {
  const Tensor summed = grad.dim() > 2 && operand.dim() <= 2
                            ? sum(reshape(grad, {std::int64_t{-1}, grad.size(-2), grad.size(-1)}), 0)
                            : grad;
  return reshape(summed, operand.shape());
}

// d(A B) = dA B + A dB, so dA = dC B^T and dB = A^T dC (per batch entry; summed for a shared operand)
struct MatmulBackward final : Node {
  MatmulBackward(Tensor a, Tensor b, MatmulPlan plan)
      : a(std::move(a)), b(std::move(b)), plan(std::move(plan)), node_name(name_for(this->a.dim(), this->b.dim())) {}
  const char* name() const override { return node_name; }
  // PyTorch dispatches matmul by rank to mm, mv, dot or a batched product and names the node after it.
  static const char* name_for(std::int64_t a_dim, std::int64_t b_dim) {
    if (a_dim == 2 && b_dim == 2) return "MmBackward0";
    if (a_dim == 2 && b_dim == 1) return "MvBackward0";
    if (a_dim == 1 && b_dim == 1) return "DotBackward0";
    return "UnsafeViewBackward0";
  }

  std::vector<Tensor> backward(const Tensor& grad) override {
    // create_graph: the same products as recorded matmuls, with a vector operand made a matrix (a
    // row for a, a column for b) and the upstream given the matching shape.
    if (GradMode::is_enabled()) {
      const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
      const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
      Shape out_shape = a2.dim() >= b2.dim() ? a2.shape() : b2.shape();
      out_shape[out_shape.size() - 2] = a2.size(-2);
      out_shape[out_shape.size() - 1] = b2.size(-1);
      const Tensor dc = reshape(grad, out_shape);
      std::vector<Tensor> grads(2);
      if (needs_input_grad(0)) grads[0] = summed_to_operand(matmul(dc, transpose(b2, -1, -2)), a);
      if (needs_input_grad(1)) grads[1] = summed_to_operand(matmul(transpose(a2, -1, -2), dc), b);
      return grads;
    }
    return visit_floating(grad.dtype(), "matmul backward", [&](auto tag) {
      using T = decltype(tag);
      const MatmulPlan& p = plan;
      const T* dc = array<T>(grad).data();
      const std::size_t c_stride = p.m * p.n;
      const std::size_t a_stride = p.a_batched ? p.m * p.k : 0;
      const std::size_t b_stride = p.b_batched ? p.k * p.n : 0;
      std::vector<Tensor> grads(2);
      if (needs_input_grad(0)) {  // dA (m x k) = dC (m x n) . B^T, B stored k x n
        Array<T> da = output_array<T>(a.shape(), !p.a_batched);
        batched_gemm<T>(p.batch, false, true, p.m, p.k, p.n, dc, c_stride, array<T>(b).data(), b_stride, da.data(),
                        a_stride);
        grads[0] = make_tensor(std::move(da));
      }
      if (needs_input_grad(1)) {  // dB (k x n) = A^T . dC (m x n), A stored m x k
        Array<T> db = output_array<T>(b.shape(), !p.b_batched);
        batched_gemm<T>(p.batch, true, false, p.k, p.n, p.m, array<T>(a).data(), a_stride, dc, c_stride, db.data(),
                        b_stride);
        grads[1] = make_tensor(std::move(db));
      }
      return grads;
    });
  }
  void release_saved() override {
    a = Tensor();
    b = Tensor();
  }
  Tensor a, b;  // the inputs (never the output)
  MatmulPlan plan;
  const char* node_name;
};

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_floating("matmul", "a", a, "b", b);
  MatmulPlan plan = plan_matmul(a.shape(), b.shape());
  Tensor out = visit_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    Array<T> c = output_array<T>(plan.out_shape, false);
    batched_gemm<T>(plan.batch, false, false, plan.m, plan.n, plan.k, array<T>(a).data(),
                    plan.a_batched ? plan.m * plan.k : 0, array<T>(b).data(), plan.b_batched ? plan.k * plan.n : 0,
                    c.data(), plan.m * plan.n);
    return make_tensor(std::move(c));
  });
  if (any_requires_grad({&a, &b})) record(out, std::make_shared<MatmulBackward>(a, b, std::move(plan)), {&a, &b}, {&a, &b});
  return out;
}

// ---- linear ------------------------------------------------------------------------------------

namespace {

std::string linear_shapes(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  return concat("input ", shape_str(input.shape()), ", weight ", shape_str(weight.shape()), ", bias ",
                bias.defined() ? shape_str(bias.shape()) : std::string("undefined"));
}

// Rows of the input (all leading dimensions together), in_features and out_features.
struct LinearPlan {
  std::size_t rows = 1, in = 0, out = 0;
  Shape out_shape;
};

// Each of `rows` rows of `width` elements set to `row`. Blocks of a constant width, which the
// compiler turns into vector moves, rather than a memcpy per row: a small layer's rows are a few
// dozen bytes, where the call costs more than the copy (those calls were 3% of a tiny training step).
template <class T>
void fill_rows(T* __restrict out, const T* __restrict row, std::size_t rows, std::size_t width) {
  constexpr std::size_t kBlock = 8;
  for (std::size_t r = 0; r < rows; ++r, out += width) {
    std::size_t c = 0;
    for (; c + kBlock <= width; c += kBlock)
      for (std::size_t k = 0; k < kBlock; ++k) out[c + k] = row[c + k];
    for (; c < width; ++c) out[c] = row[c];
  }
}

LinearPlan plan_linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  check_same_floating("linear", "input", input, "weight", weight);
  if (bias.defined()) check_same_floating("linear", "input", input, "bias", bias);
  Shape x = input.shape();
  const Shape w = weight.shape();
  // Messages are built only on failure: they format every shape, and linear is on the hot path.
  const bool bias_ok = !bias.defined() || (w.size() == 2 && has_shape(bias, {w[0]}));
  if (x.empty() || w.size() != 2 || x.back() != w[1] || !bias_ok) {
    const std::string shapes = linear_shapes(input, weight, bias);
    if (x.empty()) throw Error(concat("linear: input needs at least one dimension (its features), got ", shapes));
    if (w.size() != 2) throw Error(concat("linear: weight must be 2-D (out_features, in_features), got ", shapes));
    if (x.back() != w[1])
      throw Error(concat("linear: input has ", x.back(), " features but weight expects ", w[1], " (", shapes, ")"));
    throw Error(concat("linear: bias must have shape ", shape_str({w[0]}), " (out_features), got ", shapes));
  }
  LinearPlan plan;
  plan.in = w[1];
  plan.out = w[0];
  plan.rows = 1;
  for (std::size_t d = 0; d + 1 < x.size(); ++d) plan.rows *= static_cast<std::size_t>(x[d]);
  plan.out_shape = std::move(x);  // the input's shape with the features replaced: no new vector
  plan.out_shape.back() = w[0];
  return plan;
}

// y = x W^T + b:  dx = dy W,  dW = dy^T x,  db = sum of dy over the rows
struct LinearBackward final : Node {
  LinearBackward(Tensor input, Tensor weight, LinearPlan plan, bool has_bias)
      : input(std::move(input)), weight(std::move(weight)), plan(std::move(plan)),
        node_name(has_bias ? "AddmmBackward0" : "MmBackward0") {}
  // PyTorch computes a 2-D linear as addmm (with bias) or mm, and names the node after it.
  const char* name() const override { return node_name; }

  std::vector<Tensor> backward(const Tensor& grad) override {
    // create_graph: the same products and sums as recorded ops, over the rows of all leading
    // dimensions together.
    if (GradMode::is_enabled()) {
      const auto rows = static_cast<std::int64_t>(plan.rows);
      const Tensor dy = reshape(grad, {rows, static_cast<std::int64_t>(plan.out)});
      std::vector<Tensor> grads(3);
      if (needs_input_grad(0)) grads[0] = matmul(grad, weight);
      if (needs_input_grad(1))
        grads[1] = matmul(transpose(dy, 0, 1), reshape(input, {rows, static_cast<std::int64_t>(plan.in)}));
      if (needs_input_grad(2)) grads[2] = sum(dy, 0);
      return grads;
    }
    return visit_floating(grad.dtype(), "linear backward", [&](auto tag) {
      using T = decltype(tag);
      const LinearPlan& p = plan;
      const T* dy = array<T>(grad).data();
      std::vector<Tensor> grads(3);
      if (needs_input_grad(0)) {  // dx (rows x in) = dy (rows x out) . W (out x in)
        Array<T> dx = Array<T>::from_shape(input.shape());
        gemm<T>(false, false, p.rows, p.in, p.out, dy, array<T>(weight).data(), T(0), dx.data());
        grads[0] = make_tensor(std::move(dx));
      }
      if (needs_input_grad(1)) {  // dW (out x in) = dy^T (out x rows) . x (rows x in)
        Array<T> dw = Array<T>::from_shape(weight.shape());
        gemm<T>(true, false, p.out, p.in, p.rows, dy, array<T>(input).data(), T(0), dw.data());
        grads[1] = make_tensor(std::move(dw));
      }
      if (needs_input_grad(2)) grads[2] = make_tensor(column_sums(dy));
      return grads;
    });
  }
  // db[j] = sum over rows of dy[r, j], row by row so the inner loop runs along memory. The sums of
  // a block of columns stay in a local array the compiler keeps in registers, instead of a load
  // and store of db per element (3x faster for 300 x 64); each column is still summed in row order.
  template <class T>
  Array<T> column_sums(const T* dy) const {
    constexpr std::size_t kBlock = 32;
    Array<T> db = Array<T>::from_shape({plan.out});
    for (std::size_t first = 0; first < plan.out; first += kBlock) {
      const std::size_t width = std::min(kBlock, plan.out - first);
      T total[kBlock] = {};
      const T* block = dy + first;
      if (width == kBlock) {  // a constant trip count, so the compiler unrolls it into registers
        for (std::size_t r = 0; r < plan.rows; ++r)
          for (std::size_t j = 0; j < kBlock; ++j) total[j] += block[r * plan.out + j];
      } else {
        for (std::size_t r = 0; r < plan.rows; ++r)
          for (std::size_t j = 0; j < width; ++j) total[j] += block[r * plan.out + j];
      }
      std::copy(total, total + width, db.data() + first);
    }
    return db;
  }
  void release_saved() override {
    input = Tensor();
    weight = Tensor();
  }
  Tensor input, weight;  // the inputs (never the output)
  LinearPlan plan;
  const char* node_name;
};

}  // namespace

Tensor linear(const Tensor& input, const Tensor& weight, const Tensor& bias) {
  LinearPlan plan = plan_linear(input, weight, bias);
  Tensor out = visit_floating(input.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    Array<T> y = Array<T>::from_shape(plan.out_shape);
    T beta = T(0);
    if (bias.defined()) {  // every row starts as the bias; the gemm then adds x W^T onto it
      const T* b = array<T>(bias).data();
      fill_rows(y.data(), b, plan.rows, plan.out);
      beta = T(1);
    }
    // x (rows x in) times W^T, W stored (out x in): a transpose flag. Where libxsmm takes the product,
    // kernels/gemm.cpp copies W transposed first (a small weight only); OpenBLAS reads it as it is.
    gemm<T>(false, true, plan.rows, plan.out, plan.in, array<T>(input).data(), array<T>(weight).data(), beta,
            y.data());
    return make_tensor(std::move(y));
  });
  if (any_requires_grad({&input, &weight, &bias}))
    record(out, std::make_shared<LinearBackward>(input, weight, std::move(plan), bias.defined()), {&input, &weight, &bias},
           {&input, &weight});
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw Error("mm: called with an undefined tensor");
  if (a.dim() != 2 || b.dim() != 2)
    throw Error(concat("mm: both arguments must be matrices, got shapes ", shape_str(a.shape()), " and ",
                       shape_str(b.shape())));
  return matmul(a, b);
}


}  // namespace xgrad
