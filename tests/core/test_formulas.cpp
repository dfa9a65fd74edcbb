// Node::formula(): every built-in node says its local derivative in words, one line per input.
// A set of small programs reaches every node class, including the nodes a create_graph backward
// records (second order) and those recorded when that is differentiated again (third order).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace xgrad {
namespace {

using autograd::AutogradContext;
using autograd::variable_list;
using indexing::Slice;

std::vector<std::string> lines_of(const char* formula) {
  std::vector<std::string> lines;
  const std::string text = formula;
  std::size_t begin = 0;
  for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1)
    lines.push_back(text.substr(begin, end - begin));
  lines.push_back(text.substr(begin));
  return lines;
}

// Nodes whose one line holds for any number of inputs: a sink (no inputs), a custom Function (the
// derivative is the user's), cat and stack (one line for each of their inputs alike), a recurrent
// layer's recomputed steps (autograd::grad of them, for whichever inputs they read).
bool one_line_for_all_inputs(const Node& node) {
  const std::string name = node.name();
  return name == "AccumulateGrad" || name == "CubedBackward" || name == "CatBackward0" || name == "StackBackward0" ||
         name == "RecomputedBackward";
}

// Every node met, as (name, formula), after checking its formula.
class FormulaCheck {
 public:
  void walk(const Tensor& root) {
    if (!root.defined() || !gradient_edge(root)) return;
    std::vector<std::shared_ptr<Node>> to_visit{gradient_edge(root)};
    while (!to_visit.empty()) {
      const std::shared_ptr<Node> node = to_visit.back();
      to_visit.pop_back();
      if (!visited_.insert(node).second) continue;
      check(*node);
      for (const Edge& edge : node->next_edges())
        if (edge.function) to_visit.push_back(edge.function);
    }
  }

  // The output's graph, its gradients' graphs (create_graph) and theirs (once more).
  void differentiate(const Tensor& output, const std::vector<Tensor>& leaves) {
    visited_.clear();  // the last program's nodes are let go
    const Tensor loss = (output * output).sum();
    walk(loss);
    const variable_list first = autograd::grad({loss}, leaves, {}, true, true, true);
    Tensor second_loss;
    for (const Tensor& g : first) {
      walk(g);
      if (!g.defined() || !g.requires_grad()) continue;
      second_loss = second_loss.defined() ? second_loss + (g * g).sum() : (g * g).sum();
    }
    if (!second_loss.defined()) return;
    walk(second_loss);
    for (const Tensor& g : autograd::grad({second_loss}, leaves, {}, true, true, true)) walk(g);
  }

  const std::set<std::pair<std::string, std::string>>& seen() const { return seen_; }

 private:
  void check(const Node& node) {
    const char* formula = node.formula();
    ASSERT_NE(formula, nullptr) << node.name();
    const std::vector<std::string> lines = lines_of(formula);
    for (const std::string& line : lines) EXPECT_FALSE(line.empty()) << node.name() << ": " << formula;
    if (one_line_for_all_inputs(node)) EXPECT_EQ(lines.size(), 1u) << node.name() << ": " << formula;
    else EXPECT_EQ(lines.size(), node.num_inputs()) << node.name() << ": " << formula;
    seen_.emplace(node.name(), formula);
  }

  std::unordered_set<std::shared_ptr<Node>> visited_;  // held, so that no address is reused meanwhile
  std::set<std::pair<std::string, std::string>> seen_;
};

struct Cubed : autograd::Function<Cubed> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    ctx->save_for_backward({x});
    return x * x * x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Tensor x = ctx->get_saved_variables()[0];
    return {grads[0] * 3.0 * x * x};
  }
};

// Values in [low, high), float64, requiring grad.
Tensor leaf(IntArrayRef sizes, double low = -1.0, double high = 1.0) {
  return (rand(sizes, kFloat64) * (high - low) + low).detach().requires_grad_();
}

Tensor int64_tensor(std::vector<std::int64_t> values) { return tensor(values); }

void run_programs(FormulaCheck& check) {
  manual_seed(7);
  const auto run = [&](const Tensor& out, const std::vector<Tensor>& leaves) {
    SCOPED_TRACE(gradient_edge(out) ? gradient_edge(out)->name() : "no graph");
    check.differentiate(out, leaves);
  };
  const Tensor a = leaf({2, 3}), b = leaf({2, 3}), p = leaf({2, 3}, 0.5, 2.0);
  const Tensor row = leaf({3}), m = leaf({3, 4}), v = leaf({3}), w = leaf({4});

  // elementwise, tensor and scalar
  run(a + b, {a, b});
  run(a - b, {a, b});
  run(a * row, {a, row});
  run(a / p, {a, p});
  run((a + 1.0) * (a - 1.0) * (1.0 - a) * -a, {a});
  run(a * 2.0 + a / 2.0 + 2.0 / p, {a, p});
  run(exp(a) + log(p) + log1p(p) + tanh(a) + sigmoid(a) + abs(a) + sqrt(p) + sin(a) + cos(a) + atan(a), {a, p});
  run(relu(a) * a + sign(a) * a + sgn(a) * a + pow(a, 3.0), {a});
  run(clamp(a, -0.5, 0.5) + clamp_min(a, -0.2) + clamp_max(a, 0.2), {a});
  run(maximum(a, b) + minimum(a, b), {a, b});
  run(sum_to(a, {3}), {a});
  // activations
  run(leaky_relu(a) + gelu(a) + gelu(a, "tanh") + elu(a) + silu(a) + softplus(a), {a});
  {
    Tensor in_place = a * 1.0;
    leaky_relu_(in_place, 0.1);
    run(in_place, {a});
  }
  // reductions
  run(sum(a) + mean(a) + sum(a, 1).sum() + mean(a, 0).sum() + logsumexp(a, 1).sum(), {a});
  run(max(a) + min(a) + std::get<0>(max(a, 1)).sum() + std::get<0>(min(a, 0)).sum(), {a});
  run(var(a) + std(a) + norm(a) + norm(a, 1) + norm(a, INFINITY) + norm(a, 3), {a});
  // softmax and losses
  const Tensor classes = int64_tensor({0, 2});
  run(softmax(a, 1) + log_softmax(a, 1), {a});
  run(nll_loss(log_softmax(a, 1), classes), {a});
  run(cross_entropy_loss(a, classes), {a});
  run(cross_entropy_loss(a, classes, {}, kMean, -100, 0.1), {a});
  run(cross_entropy_loss(a, softmax(b, 1)), {a, b});
  const Tensor probability = leaf({2, 3}, 0.1, 0.9), target = leaf({2, 3}, 0.1, 0.9);
  run(binary_cross_entropy(probability, target), {probability, target});
  run(binary_cross_entropy_with_logits(a, target), {a, target});
  run(binary_cross_entropy_with_logits(a, target, {}, full({3}, 2.0, kFloat64)), {a, target});
  run(kl_div(a, target) + kl_div(a, b, kMean, true), {a, b, target});
  run(mse_loss(a, b) + smooth_l1_loss(a, b) + huber_loss(a, b), {a, b});
  // linear algebra
  run(matmul(m.t(), m) + matmul(v, m).sum() + matmul(m, w).sum() + matmul(v, v), {m, v, w});
  const Tensor batch = leaf({2, 3, 4}), batch2 = leaf({2, 4, 3}), square = leaf({3, 3});
  run(matmul(square, batch).sum() + matmul(batch2, square).sum() + bmm(batch, batch2).sum(), {batch, batch2, square});
  run(baddbmm(leaf({3}), batch, batch2, 0.5, 2.0), {batch, batch2});
  run(linear(a, m.t()).sum() + linear(a, m.t(), w).sum(), {a, m, w});
  // views
  run(a.narrow(1, 0, 2).sum() + a.select(0, 1).sum() + a.index({Slice(), Slice(0, 2)}).sum(), {a});
  run(split(a, 2, 1)[0].sum() + split_with_sizes(a, {1, 2}, 1)[1].sum() + unbind(a, 0)[1].sum(), {a});
  run(diagonal(square).sum() + unfold(row, 0, 2, 1).sum() + as_strided(square, {2}, {4}).sum(), {row, square});
  run(view(a, {3, 2}).sum() + reshape(a, {6}).sum() + reshape(a.t(), {6}).sum() + unsqueeze(a, 0).sum() +
          squeeze(unsqueeze(a, 0)).sum() + squeeze(unsqueeze(a, 1), 1).sum(),
      {a});
  run(permute(a, {1, 0}).sum() + transpose(a, 0, 1).sum() + a.t().sum(), {a});
  run(expand(row, {2, 3}) + broadcast_to(row, {2, 3}), {row});
  {
    Tensor base = a * 1.0;
    base.select(0, 0).copy_(row);
    run(base, {a, row});
  }
  // indexing
  const Tensor index = int64_tensor({2, 0});
  run(index_select(a, 1, index).sum() + gather(a, 1, int64_tensor({0, 1, 1, 2}).view({2, 2})).sum(), {a});
  run(masked_fill(a, a.detach() > 0.0, 0.5) + masked_fill(a, a.detach() < 0.0, row.sum()), {a, row});
  run(where(a.detach() > 0.0, a, b) + cat({a, b}, 1).sum() + stack({a, b}).sum(), {a, b});
  const Tensor rows = int64_tensor({1, 0});
  run(a.index({rows}).sum(), {a});
  {
    Tensor written = a * 1.0;
    written.index_put_({rows}, b * 1.0);
    Tensor added = a * 1.0;
    added.index_add_(1, index, b.narrow(1, 0, 2));
    run(written + added + a.scatter_add(1, int64_tensor({0, 1, 1, 2}).view({2, 2}), b.narrow(1, 0, 2)), {a, b});
  }
  run(embedding(m, int64_tensor({0, 2, 2})), {m});
  // sequences
  run(tril(square) + triu(square, 1) + cumsum(square, 0) + cumprod(square, 1) + flip(square, {0}) +
          roll(square, {1}, {1}),
      {square});
  run(repeat(row, {2}).sum() + constant_pad_nd(row, {1, 1}).sum() + std::get<0>(sort(row)).sum() +
          std::get<0>(topk(row, 2)).sum(),
      {row});
  run(to_dtype(a, kFloat32).to(kFloat64) + a.clone(), {a});
  // images
  const Tensor image = leaf({1, 2, 5, 5}), kernel = leaf({3, 2, 3, 3}), bias = leaf({3});
  run(conv2d(image, kernel, bias), {image, kernel, bias});
  run(max_pool2d(image, {2, 2}).sum() + avg_pool2d(image, {2, 2}).sum() + adaptive_avg_pool2d(image, {2, 2}).sum() +
          adaptive_avg_pool2d(image, {1, 1}).sum(),
      {image});
  run(batch_norm(image, bias.narrow(0, 0, 2), bias.narrow(0, 1, 2), {}, {}, true, 0.1, 1e-5), {image, bias});
  // per-sample normalisation, attention
  const Tensor tokens = leaf({2, 3, 4}), gamma = leaf({4}), beta = leaf({4});
  run(layer_norm(tokens, {4}, gamma, beta), {tokens, gamma, beta});
  run(group_norm(tokens.transpose(1, 2), 2, gamma, beta), {tokens, gamma, beta});
  const Tensor heads = leaf({1, 2, 3, 4});
  run(scaled_dot_product_attention(heads, heads * 0.5, heads + 1.0, {}, 0.0, /*is_causal=*/true), {heads});
  // recurrent layers, one fused node per layer and direction (RecomputedBackward under create_graph)
  const auto run_layer = [&](auto layer) {
    layer->to(kFloat64);
    std::vector<Tensor> leaves = layer->parameters();
    leaves.push_back(tokens);
    run(std::get<0>(layer->forward(tokens)), leaves);
  };
  run_layer(nn::LSTM(nn::LSTMOptions(4, 3)));
  run_layer(nn::GRU(nn::GRUOptions(4, 3)));
  run_layer(nn::RNN(nn::RNNOptions(4, 3)));
  run_layer(nn::RNN(nn::RNNOptions(4, 3).nonlinearity(kReLU)));
  // a custom Function, and a leaf read twice (its gradients summed under create_graph)
  run(Cubed::apply(a) + a * a, {a});
}

TEST(Formulas, EveryNodeOfABroadProgramSaysItsDerivativeOneLinePerInput) {
  FormulaCheck check;
  run_programs(check);
  EXPECT_GT(check.seen().size(), 100u);
}

// Each node class, told apart by its name and a piece of its formula where classes share a name.
TEST(Formulas, EveryNodeClassIsReached) {
  FormulaCheck check;
  run_programs(check);
  const std::vector<std::pair<const char*, const char*>> expected = {
      // core
      {"AccumulateGrad", "leaf.grad() += g"},
      {"NativeLayerNormBackward0", "normalized dims"},
      {"NativeGroupNormBackward0", "group of channels"},
      {"ScaledDotProductFlashAttentionBackward0", "dZ = P * (g @ v^T - rowsum(g * y))"},
      {"LstmLayerBackward", "dc_t = dh_t o"},
      {"GruLayerBackward", "dn = dh (1-z)"},
      {"RnnTanhLayerBackward", "tanh(a_t)"},
      {"RnnReluLayerBackward", "relu(a_t)"},
      {"RecomputedBackward", "recorded steps"},
      {"CubedBackward", "a custom Function"},
      {"ThresholdBackwardBackward0", "d/d source = 0"},
      {"LeakyReluBackwardBackward0", "d/d source = 0"},
      {"MaxPool2DWithIndicesBackwardBackward0", "d/d source = 0"},
      {"CloneBackward0", "d clone(x) = g"},
      {"torch::autograd::CopySlices", "d (base with a view written)"},
      {"CopySlicesBackward", "zeroed"},
      {"SelectBackward0", "d view of x"},
      {"SelectBackwardBackward0", "gg read at the view's elements"},
      {"AddBackward0", "d (a + b)/d a = g"},
      // views
      {"SliceBackward0", "x[a:b]"},
      {"SelectBackward0", "x[i]"},
      {"SplitBackward0", "split(x)"},
      {"SplitWithSizesBackward0", "split_with_sizes(x)"},
      {"UnbindBackward0", "unbind(x)"},
      {"DiagonalBackward0", "diagonal(x)"},
      {"UnfoldBackward0", "unfold(x)"},
      {"AsStridedBackward0", "d view of x"},
      {"ViewBackward0", "view(x)"},
      {"ReshapeAliasBackward0", "reshape(x)"},
      {"UnsafeViewBackward0", "reshape(x)"},
      {"UnsqueezeBackward0", "unsqueeze(x, dim)"},
      {"SqueezeBackward0", "squeeze(x)"},
      {"SqueezeBackward1", "squeeze(x, dim)"},
      {"PermuteBackward0", "permute(x)"},
      {"TransposeBackward0", "transpose(x)"},
      {"TBackward0", "x^T"},
      {"ExpandBackward0", "expand(x)"},
      {"ExpandBackward0", "broadcast_to(x)"},
      // elementwise
      {"SumToSizeBackward0", "sum_to(x, shape)"},
      {"SubBackward0", "d (a - b)"},
      {"MulBackward0", "d (a * b)"},
      {"DivBackward0", "d (a / b)"},
      {"AddBackward0", "d (x + c)"},
      {"SubBackward0", "d (x - c)"},
      {"NegBackward0", "d (-x)"},
      {"RsubBackward1", "d (c - x)"},
      {"MulBackward0", "d (x * c)"},
      {"DivBackward0", "d (x / c)"},
      {"DivBackward0", "d (c / x)"},
      {"ExpBackward0", "exp(x)"},
      {"LogBackward0", "log(x)"},
      {"Log1PBackward0", "log1p(x)"},
      {"TanhBackward0", "tanh(x)"},
      {"SigmoidBackward0", "sigmoid(x)"},
      {"AbsBackward0", "|x|"},
      {"SqrtBackward0", "sqrt(x)"},
      {"SinBackward0", "sin(x)"},
      {"CosBackward0", "cos(x)"},
      {"AtanBackward0", "atan(x)"},
      {"ReluBackward0", "relu(x)"},
      {"SignBackward0", "sign(x)"},
      {"SgnBackward0", "sign(x)"},
      {"PowBackward0", "x^p"},
      {"ClampBackward1", "clamp(x)"},
      {"ClampMinBackward0", "clamp_min(x)"},
      {"ClampMaxBackward0", "clamp_max(x)"},
      {"MaximumBackward0", "max(a, b)"},
      {"MinimumBackward0", "min(a, b)"},
      // activations
      {"LeakyReluBackward0", "leaky_relu(x)"},
      {"LeakyReluBackward1", "leaky_relu(x)"},
      {"ErfBackward0", "erf(x)"},
      {"GeluBackward0", "Phi(x)"},
      {"GeluBackward0", "tanh"},
      {"EluBackward0", "elu(x)"},
      {"SiluBackward0", "silu(x)"},
      {"SoftplusBackward0", "softplus(x)"},
      // reductions
      {"SumBackward0", "sum(x)"},
      {"SumBackward1", "sum(x, dim)"},
      {"MeanBackward0", "mean(x)"},
      {"MeanBackward1", "mean(x, dim)"},
      {"LogsumexpBackward0", "logsumexp(x)"},
      {"MaxBackward1", "max(x)"},
      {"MinBackward1", "min(x)"},
      {"MaxBackward0", "max(x, dim)"},
      {"MinBackward0", "min(x, dim)"},
      {"VarBackward0", "var(x)"},
      {"StdBackward0", "std(x)"},
      {"NormBackward1", "norm(x)"},
      {"NormBackward1", "norm(x, 1)"},
      {"NormBackward1", "norm(x, inf)"},
      {"NormBackward1", "norm(x, p)"},
      // softmax and losses
      {"SoftmaxBackward0", "softmax(x)"},
      {"LogSoftmaxBackward0", "log_softmax(x)"},
      {"NllLossBackward0", "nll_loss(x, t)"},
      {"NllLossBackward0", "cross_entropy(z, t)"},
      {"CrossEntropyLossBackward0", "label_smoothing"},
      {"CrossEntropyLossBackward0", "cross_entropy(z, p)"},
      {"BinaryCrossEntropyBackward0", "bce(x, y)"},
      {"BinaryCrossEntropyWithLogitsBackward0", "bce_logits(z, y)"},
      {"LogSigmoidBackward0", "log_sigmoid(x)"},
      {"KlDivBackward0", "-y * g"},
      {"KlDivBackward0", "-exp(y) * g"},
      {"MseLossBackward0", "mse(x, y)"},
      {"SmoothL1LossBackward0", "smooth_l1(x, y)"},
      {"HuberLossBackward0", "huber(x, y)"},
      // linear algebra
      {"MmBackward0", "d (a @ b)"},
      {"MmBackward0", "linear(x, W, b)"},
      {"MvBackward0", "d (A @ v)"},
      {"DotBackward0", "d (a . b)"},
      {"SqueezeBackward3", "d (v @ B)"},
      {"CloneBackward0", "d (a @ b)"},
      {"UnsafeViewBackward0", "d (a @ b)"},
      {"BmmBackward0", "bmm(a, b)"},
      {"BaddbmmBackward0", "baddbmm(s, A, B)"},
      {"AddmmBackward0", "linear(x, W, b)"},
      // indexing
      {"IndexSelectBackward0", "index_select(x, dim, index)"},
      {"IndexAddBackward0", "index_select(gg, dim, index)"},
      {"GatherBackward0", "gather(x, dim, index)"},
      {"ScatterAddBackward0", "gather(gg, dim, index)"},
      {"MaskedFillBackward0", "masked_fill(x, mask, v)"},
      {"MaskedFillBackward1", "masked_fill(x, mask, v)/d v"},
      {"WhereBackward0", "where(c, a, b)"},
      {"CatBackward0", "cat(xs)"},
      {"StackBackward0", "stack(xs)"},
      {"IndexBackward0", "x[index]"},
      {"IndexPutBackward0", "index_put(x, idx, v)/d x = g, zero"},
      {"IndexAddBackward0", "index_put(x, idx, v, add)"},
      {"ScatterAddBackward0", "index_put(x, idx, v, add)"},
      {"EmbeddingBackward0", "embedding(W, i)"},
      {"EmbeddingDenseBackwardBackward0", "rows of gg"},
      // sequences
      {"TrilBackward0", "tril(x)"},
      {"TriuBackward0", "triu(x)"},
      {"CumsumBackward0", "cumsum(x)"},
      {"CumprodBackward0", "cumprod(x)"},
      {"FlipBackward0", "flip(x)"},
      {"RollBackward0", "roll(x, s)"},
      {"RepeatBackward0", "repeat(x)"},
      {"ConstantPadNdBackward0", "constant_pad_nd(x, p)"},
      {"SortBackward0", "sort(x)"},
      {"TopkBackward0", "topk(x)"},
      {"ToCopyBackward0", "x.to(dtype)"},
      // images
      {"ConvolutionBackward0", "d conv/d x"},
      {"ConvolutionBackwardBackward0", "conv_transpose(dy, w)/d dy"},
      {"ConvolutionBackwardBackward0", "correlation(x, dy)/d x"},
      {"MaxPool2DWithIndicesBackward0", "max_pool2d(x)"},
      {"MaxPool2DWithIndicesBackwardBackward0", "gg read at each window's max"},
      {"GatherBackward0", "window's max"},
      {"AvgPool2DBackward0", "avg_pool(x)"},
      {"AvgPool2DBackwardBackward0", "avg_pool(gg)"},
      {"AdaptiveAvgPool2DBackward0", "avg_pool(x)"},
      {"AdaptiveAvgPool2DBackwardBackward0", "avg_pool(gg)"},
      {"MeanBackward1", "avg_pool(x)"},
      {"NativeBatchNormBackward0", "batch_norm/d x"},
  };
  for (const auto& [name, piece] : expected) {
    bool found = false;
    for (const auto& [seen_name, formula] : check.seen())
      found = found || (seen_name == name && formula.find(piece) != std::string::npos);
    EXPECT_TRUE(found) << name << " with a formula containing \"" << piece << "\" was not reached";
  }
}

TEST(Formulas, ReadableByAnyTool) {
  Tensor x = tensor({0.5, -1.0}, kFloat64).requires_grad_();
  Tensor y = tanh(x) * x;
  EXPECT_STREQ(y.grad_fn()->formula(), "d (a * b)/d a = g * b\nd (a * b)/d b = g * a");
  EXPECT_STREQ(y.grad_fn()->next_functions()[0].function->formula(), "d tanh(x) = g * (1 - y^2)");
}

}  // namespace
}  // namespace xgrad
