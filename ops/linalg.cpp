#include <xgrad/ops/linalg.hpp>

#include <algorithm>
#include <cstring>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/gemm.hpp>
#include <xgrad/ops/broadcast_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/inplace_impl.hpp>
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

// Which matrix of one operand each of the plan's products reads. Operands whose batch dimensions
// equal the output's read matrix i for product i (stride), an operand without batch dimensions reads
// its one matrix every time (stride 0), and one broadcast against the other (NumPy's rule, e.g.
// [B, 1, T, D] against [H, D, T]) lists its matrix for every product.
struct BatchMap {
  std::size_t matrix_size = 0;          // elements per matrix
  bool batched = false;                 // products read different matrices (stride or list)
  std::vector<std::size_t> matrix_of;   // set only when broadcast; empty otherwise
  std::size_t matrices = 1;             // how many matrices the operand holds

  std::size_t offset(std::size_t product) const {
    if (!matrix_of.empty()) return matrix_of[product] * matrix_size;
    return batched ? product * matrix_size : 0;
  }
  // True when some matrix feeds several products, so its gradient is a sum over them, or none (the
  // other operand's batch is empty: [1, m, k] by [0, k, n]), so its gradient is zero.
  bool shared(std::size_t products) const { return matrices != products; }
};

// How a matmul maps onto gemm calls: `batch` products of (m x k) by (k x n). A 1-D operand is a
// single row (a) or column (b). When only a has batch dimensions, its rows are folded into m so the
// whole product is one gemm.
struct MatmulPlan {
  std::size_t batch = 1, m = 1, k = 1, n = 1;
  BatchMap a, b;
  Shape out_shape;
};

// For each product (a row-major walk over the output's batch dimensions), the matrix an operand
// with batch dimensions `batch` reads: broadcast dimensions of size 1 stay at index 0.
std::vector<std::size_t> broadcast_matrix_indices(const Shape& batch, const Shape& out_batch) {
  const std::size_t rank = out_batch.size(), offset = rank - batch.size();
  std::vector<std::size_t> strides(rank, 0);
  std::size_t stride = 1;
  for (std::size_t d = rank; d-- > offset;) {
    const auto size = static_cast<std::size_t>(batch[d - offset]);
    strides[d] = size == 1 ? 0 : stride;
    stride *= size;
  }
  std::vector<std::size_t> indices(static_cast<std::size_t>(numel_of(out_batch)));
  std::vector<std::int64_t> position(rank, 0);
  for (std::size_t& index : indices) {
    index = 0;
    for (std::size_t d = 0; d < rank; ++d) index += static_cast<std::size_t>(position[d]) * strides[d];
    for (std::size_t d = rank; d-- > 0;) {
      if (++position[d] < out_batch[d]) break;
      position[d] = 0;
    }
  }
  return indices;
}

BatchMap batch_map(const Shape& batch, const Shape& out_batch, std::size_t matrix_size) {
  BatchMap map;
  map.matrix_size = matrix_size;
  map.matrices = static_cast<std::size_t>(numel_of(batch));
  map.batched = !batch.empty();
  if (map.batched && batch != out_batch) map.matrix_of = broadcast_matrix_indices(batch, out_batch);
  return map;
}

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
  Shape out_batch = a_batch;
  if (a_batch != b_batch) {
    try {
      out_batch = broadcast_shapes(a_batch, b_batch, "matmul");
    } catch (const Error&) {
      throw Error(concat("matmul: batch dimensions of shapes ", shape_str(a), " and ", shape_str(b),
                         " do not broadcast (", shape_str(a_batch), " vs ", shape_str(b_batch),
                         "); each pair of sizes, aligned from the right, must be equal or contain a 1"));
    }
  }
  plan.out_shape = out_batch;
  if (a.size() >= 2) plan.out_shape.push_back(plan.m);
  if (b.size() >= 2) plan.out_shape.push_back(plan.n);

  plan.batch = numel_of(out_batch);
  if (!a_batch.empty() && b_batch.empty()) {  // [*, m, k] x [k, n]: all rows of a in one gemm
    plan.m *= plan.batch;
    plan.batch = 1;
    plan.a = batch_map({}, {}, plan.m * plan.k);
    plan.b = batch_map({}, {}, plan.k * plan.n);
    return plan;
  }
  plan.a = batch_map(a_batch, out_batch, plan.m * plan.k);
  plan.b = batch_map(b_batch, out_batch, plan.k * plan.n);
  return plan;
}

// c_i = a_i b_i for every product i: c's matrices are contiguous, a's and b's found through their maps.
template <class T>
void batched_gemm(const MatmulPlan& p, const T* a, const T* b, T* c) {
  for (std::size_t i = 0; i < p.batch; ++i)
    gemm(false, false, p.m, p.n, p.k, a + p.a.offset(i), b + p.b.offset(i), T(0), c + i * p.m * p.n);
}

// dA_i = dC_i B_i^T for every product, into the matrix of A that product read; a matrix read by
// several products receives the sum of their gradients.
template <class T>
Array<T> gradient_of_a(const MatmulPlan& p, const Shape& a_shape, const T* dc, const T* b) {
  const bool shared = p.a.shared(p.batch);
  Array<T> da = output_array<T>(a_shape, shared);
  for (std::size_t i = 0; i < p.batch; ++i)
    gemm(false, true, p.m, p.k, p.n, dc + i * p.m * p.n, b + p.b.offset(i), shared ? T(1) : T(0),
         da.data() + p.a.offset(i));
  return da;
}

// dB_i = A_i^T dC_i, likewise.
template <class T>
Array<T> gradient_of_b(const MatmulPlan& p, const Shape& b_shape, const T* a, const T* dc) {
  const bool shared = p.b.shared(p.batch);
  Array<T> db = output_array<T>(b_shape, shared);
  for (std::size_t i = 0; i < p.batch; ++i)
    gemm(true, false, p.k, p.n, p.m, a + p.a.offset(i), dc + i * p.m * p.n, shared ? T(1) : T(0),
         db.data() + p.b.offset(i));
  return db;
}

// d(A B) = dA B + A dB, so dA = dC B^T and dB = A^T dC (per batch entry; summed over the entries
// that share an operand's matrix)
struct MatmulBackward final : Node {
  MatmulBackward(const Tensor& a, const Tensor& b, MatmulPlan plan, const NodeText& op)
      : saved_a(a, /*is_output=*/false), saved_b(b, /*is_output=*/false), plan(std::move(plan)), op(op) {}
  const char* name() const override { return op.name; }
  const char* formula() const override { return op.formula; }

  gradient_list backward(const Tensor& grad) override {
    const Tensor a = saved_a.unpack(*this), b = saved_b.unpack(*this);
    // The products as recorded matmuls, with a vector operand made a matrix (a row for a, a column
    // for b) and the upstream given the matching shape; sum_to adds up the
    // entries that shared a matrix.
    const Tensor a2 = a.dim() == 1 ? unsqueeze(a, 0) : a;
    const Tensor b2 = b.dim() == 1 ? unsqueeze(b, 1) : b;
    const Shape a_shape = a2.shape(), b_shape = b2.shape();
    const Shape a_batch(a_shape.begin(), a_shape.end() - 2);
    const Shape b_batch(b_shape.begin(), b_shape.end() - 2);
    Shape out_shape = broadcast_shapes(a_batch, b_batch, "matmul backward");
    out_shape.push_back(a2.size(-2));
    out_shape.push_back(b2.size(-1));
    const Tensor dc = reshape(grad, out_shape);
    gradient_list grads(2);
    if (needs_input_grad(0))
      grads[0] = reshape(sum_to(matmul(dc, transpose(b2, -1, -2)), a2.shape()), a.shape());
    if (needs_input_grad(1))
      grads[1] = reshape(sum_to(matmul(transpose(a2, -1, -2), dc), b2.shape()), b.shape());
    return grads;
  }
  // The products on the operands' memory as they are, batch by batch, with no reshaped or
  // transposed copies.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor a = saved_a.unpack(*this), b = saved_b.unpack(*this);
    return visit_floating(grad.dtype(), "matmul backward", [&](auto tag) {
      using T = decltype(tag);
      const T* dc = array<T>(grad).data();
      gradient_list grads(2);
      if (needs_input_grad(0)) grads[0] = make_tensor(gradient_of_a<T>(plan, a.shape(), dc, array<T>(b).data()));
      if (needs_input_grad(1)) grads[1] = make_tensor(gradient_of_b<T>(plan, b.shape(), array<T>(a).data(), dc));
      return grads;
    });
  }
  void release_saved() override {
    saved_a.reset();
    saved_b.reset();
  }
  SavedTensor saved_a, saved_b;  // the inputs (never the output)
  MatmulPlan plan;
  const NodeText& op;
};

// PyTorch dispatches matmul by rank to mm, mv, dot or a batched product and names the node after
// the last op it ran: a vector times a matrix is a squeezed mm, a matrix times a batch is computed
// transposed and copied back.
const NodeText kMmNode{"MmBackward0", "d (a @ b)/d a = g @ b^T\nd (a @ b)/d b = a^T @ g"};
const NodeText kMvNode{"MvBackward0", "d (A @ v)/d A = outer(g, v)\nd (A @ v)/d v = A^T @ g"};
const NodeText kDotNode{"DotBackward0", "d (a . b)/d a = g * b\nd (a . b)/d b = g * a"};
const NodeText kVectorMatrixNode{"SqueezeBackward3", "d (v @ B)/d v = B @ g\nd (v @ B)/d B = outer(v, g)"};
// Batched: per matrix of the batch, and summed over the batch entries that shared an operand's matrix.
constexpr const char* kBatchedMatmulFormula =
    "d (a @ b)/d a = g @ b^T, summed over a's broadcast batch dims\n"
    "d (a @ b)/d b = a^T @ g, summed over b's broadcast batch dims";
const NodeText kMatrixBatchNode{"CloneBackward0", kBatchedMatmulFormula};
const NodeText kBatchedMatmulNode{"UnsafeViewBackward0", kBatchedMatmulFormula};
const NodeText kBmmNode{"BmmBackward0", "d bmm(a, b)/d a = g @ b^T for each batch entry\n"
                                        "d bmm(a, b)/d b = a^T @ g for each batch entry"};

const NodeText& matmul_node(std::int64_t a_dim, std::int64_t b_dim) {
  if (a_dim == 2 && b_dim == 2) return kMmNode;
  if (a_dim == 2 && b_dim == 1) return kMvNode;
  if (a_dim == 1 && b_dim == 1) return kDotNode;
  if (a_dim == 1 && b_dim == 2) return kVectorMatrixNode;
  if (a_dim == 2) return kMatrixBatchNode;
  return kBatchedMatmulNode;
}

// The product without checks of dtype; bmm and matmul share it.
Tensor planned_product(const Tensor& a, const Tensor& b, MatmulPlan plan, const NodeText& node) {
  Tensor out = visit_floating(a.dtype(), "matmul", [&](auto tag) {
    using T = decltype(tag);
    Array<T> c = output_array<T>(plan.out_shape, false);
    batched_gemm<T>(plan, array<T>(a).data(), array<T>(b).data(), c.data());
    return make_tensor(std::move(c));
  });
  if (any_requires_grad({&a, &b}))
    record(out, make_node<MatmulBackward>(a, b, std::move(plan), node), {&a, &b});
  return out;
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_same_floating("matmul", "a", a, "b", b);
  return planned_product(a, b, plan_matmul(a.shape(), b.shape()), matmul_node(a.dim(), b.dim()));
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
  InlineShape out_shape;
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
  InlineShape x = shape_of(input);
  const InlineShape w = shape_of(weight);
  // Messages are built only on failure: they format every shape, and linear is on the hot path.
  const bool bias_ok = !bias.defined() || (w.size() == 2 && has_shape(bias, {w[0]}));
  if (x.empty() || w.size() != 2 || x.back() != w[1] || !bias_ok) {
    const std::string shapes = linear_shapes(input, weight, bias);
    if (x.empty()) throw Error(concat("linear: input needs at least one dimension (its features), got ", shapes));
    if (w.size() != 2) throw Error(concat("linear: weight must be 2-D (out_features, in_features), got ", shapes));
    if (x.back() != w[1])
      throw Error(concat("linear: input has ", x.back(), " features but weight expects ", w[1], " (", shapes, ")"));
    throw Error(concat("linear: bias must have shape ", shape_str(Shape{w[0]}), " (out_features), got ", shapes));
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
  LinearBackward(const Tensor& input, const Tensor& weight, LinearPlan plan, bool has_bias)
      : saved_input(input, /*is_output=*/false), saved_weight(weight, /*is_output=*/false), plan(std::move(plan)),
        node_name(has_bias ? "AddmmBackward0" : "MmBackward0") {}
  // PyTorch computes a 2-D linear as addmm (with bias) or mm, and names the node after it.
  const char* name() const override { return node_name; }
  // Its inputs are (x, W, b), b undefined without a bias.
  const char* formula() const override {
    return "d linear(x, W, b)/d x = g @ W\nd linear(x, W, b)/d W = g^T @ x\n"
           "d linear(x, W, b)/d b = g summed over the rows";
  }

  gradient_list backward(const Tensor& grad) override {
    const Tensor input = saved_input.unpack(*this), weight = saved_weight.unpack(*this);
    // Products and sums over the rows of all leading dimensions together.
    const auto rows = static_cast<std::int64_t>(plan.rows);
    const Tensor dy = reshape(grad, {rows, static_cast<std::int64_t>(plan.out)});
    gradient_list grads(3);
    if (needs_input_grad(0)) grads[0] = matmul(grad, weight);
    if (needs_input_grad(1))
      grads[1] = matmul(transpose(dy, 0, 1), reshape(input, {rows, static_cast<std::int64_t>(plan.in)}));
    if (needs_input_grad(2)) grads[2] = sum(dy, 0);
    return grads;
  }
  // Two GEMMs on the rows as they lie and a blocked column sum, without reshape or transpose.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor input = saved_input.unpack(*this), weight = saved_weight.unpack(*this);
    return visit_floating(grad.dtype(), "linear backward", [&](auto tag) {
      using T = decltype(tag);
      const LinearPlan& p = plan;
      const T* dy = array<T>(grad).data();
      gradient_list grads(3);
      if (needs_input_grad(0)) {  // dx (rows x in) = dy (rows x out) . W (out x in)
        Array<T> dx = Array<T>::from_shape(array<T>(input).shape());
        gemm<T>(false, false, p.rows, p.in, p.out, dy, array<T>(weight).data(), T(0), dx.data());
        grads[0] = make_tensor(std::move(dx));
      }
      if (needs_input_grad(1)) {  // dW (out x in) = dy^T (out x rows) . x (rows x in)
        Array<T> dw = Array<T>::from_shape(array<T>(weight).shape());
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
    saved_input.reset();
    saved_weight.reset();
  }
  SavedTensor saved_input, saved_weight;  // the inputs (never the output)
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
    record(out, make_node<LinearBackward>(input, weight, std::move(plan), bias.defined()),
           {&input, &weight, &bias});
  return out;
}

Tensor mm(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) throw Error("mm: called with an undefined tensor");
  if (a.dim() != 2 || b.dim() != 2)
    throw Error(concat("mm: both arguments must be matrices, got shapes ", shape_str(a.shape()), " and ",
                       shape_str(b.shape())));
  return matmul(a, b);
}

// ---- bmm and baddbmm ---------------------------------------------------------------------------

namespace {

// batch1 [B, N, M] and batch2 [B, M, P], as ATen checks them (its words after the op's name).
void check_batches(const char* op, const Tensor& batch1, const Tensor& batch2) {
  check_same_floating(op, "batch1", batch1, "batch2", batch2);
  const char* names[] = {"batch1", "batch2"};
  const Tensor* operands[] = {&batch1, &batch2};
  for (int i = 0; i < 2; ++i)
    if (operands[i]->dim() != 3)
      throw Error(concat(op, ": ", names[i], " must be a 3D tensor, got shape ", shape_str(operands[i]->shape())));
  if (batch2.size(0) != batch1.size(0) || batch2.size(1) != batch1.size(2))
    throw Error(concat(op, ": Expected size for first two dimensions of batch2 tensor to be: [", batch1.size(0), ", ",
                       batch1.size(2), "] but got: [", batch2.size(0), ", ", batch2.size(1), "] (batch1 ",
                       shape_str(batch1.shape()), ", batch2 ", shape_str(batch2.shape()), ")"));
}

// out = beta self + alpha batch1 batch2:
//   d self = sum_to(beta g, self.shape), d batch1 = alpha g batch2^T, d batch2 = alpha batch1^T g
// The gradients are recorded bmm and multiplications, so create_graph differentiates them again.
struct BaddbmmBackward final : Node {
  BaddbmmBackward(Shape self_shape, const Tensor& batch1, const Tensor& batch2, double beta, double alpha)
      : self_shape(std::move(self_shape)), saved_batch1(batch1, /*is_output=*/false),
        saved_batch2(batch2, /*is_output=*/false), beta(beta), alpha(alpha) {}
  const char* name() const override { return "BaddbmmBackward0"; }
  const char* formula() const override {
    return "d baddbmm(s, A, B)/d s = beta * g\nd baddbmm(s, A, B)/d A = alpha * g @ B^T for each batch entry\n"
           "d baddbmm(s, A, B)/d B = alpha * A^T @ g for each batch entry";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor batch1 = saved_batch1.unpack(*this), batch2 = saved_batch2.unpack(*this);
    gradient_list grads(3);
    if (needs_input_grad(0)) grads[0] = sum_to(grad * beta, self_shape);
    if (needs_input_grad(1)) grads[1] = bmm(grad, batch2.transpose(1, 2)) * alpha;
    if (needs_input_grad(2)) grads[2] = bmm(batch1.transpose(1, 2), grad) * alpha;
    return grads;
  }
  void release_saved() override {
    saved_batch1.reset();
    saved_batch2.reset();
  }
  Shape self_shape;
  SavedTensor saved_batch1, saved_batch2;
  double beta, alpha;
};

}  // namespace

Tensor bmm(const Tensor& batch1, const Tensor& batch2) {
  check_batches("bmm", batch1, batch2);
  return planned_product(batch1, batch2, plan_matmul(batch1.shape(), batch2.shape()), kBmmNode);
}

Tensor baddbmm(const Tensor& self, const Tensor& batch1, const Tensor& batch2, const Scalar& beta,
               const Scalar& alpha) {
  check_batches("baddbmm", batch1, batch2);
  check_same_floating("baddbmm", "self", self, "batch1", batch1);
  const Shape out_shape = {batch1.size(0), batch1.size(1), batch2.size(2)};
  if (!broadcasts_to(self.shape(), out_shape))
    throw Error(concat("baddbmm: self of shape ", shape_str(self.shape()), " cannot be broadcast to the product's shape ",
                       shape_str(out_shape), " (batch1 ", shape_str(batch1.shape()), ", batch2 ",
                       shape_str(batch2.shape()), ")"));
  const double beta_value = beta.toDouble(), alpha_value = alpha.toDouble();
  Tensor out;
  {
    NoGradGuard no_grad;
    Tensor product = bmm(batch1, batch2);
    if (alpha_value != 1.0) product = product * alpha_value;
    // beta = 0 ignores self, so NaN or infinity there does not reach the result (ATen's rule).
    out = beta_value == 0.0 ? product : product + (beta_value == 1.0 ? self : self * beta_value);
  }
  if (any_requires_grad({&self, &batch1, &batch2}))
    record(out, make_node<BaddbmmBackward>(self.shape(), batch1, batch2, beta_value, alpha_value),
           {&self, &batch1, &batch2});
  return out;
}

Tensor Tensor::bmm(const Tensor& mat2) const { return xgrad::bmm(*this, mat2); }
Tensor Tensor::baddbmm(const Tensor& batch1, const Tensor& batch2, const Scalar& beta, const Scalar& alpha) const {
  return xgrad::baddbmm(*this, batch1, batch2, beta, alpha);
}
Tensor& Tensor::baddbmm_(const Tensor& batch1, const Tensor& batch2, const Scalar& beta, const Scalar& alpha) const {
  return apply_in_place(const_cast<Tensor&>(*this), "baddbmm_", [&](const Tensor& old) {
    return xgrad::baddbmm(old, batch1, batch2, beta, alpha);
  });
}

}  // namespace xgrad
