// loss_walkthrough: what softmax, log-softmax and the classification losses compute, one number at
// a time, each computed twice: once by xgrad and once by hand from its definition.
#include <xgrad/xgrad.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <vector>

namespace F = xgrad::nn::functional;
namespace nn = xgrad::nn;
using xgrad::Tensor;

void section(const char* title) { std::printf("\n== %s\n", title); }

void show(const char* label, const Tensor& value) { std::cout << label << value << '\n'; }

// log(sum_j exp(row_j)), subtracting the largest entry first so exp cannot overflow.
double logsumexp(const std::vector<double>& row) {
  double largest = row[0];
  for (double v : row) largest = std::max(largest, v);
  double total = 0.0;
  for (double v : row) total += std::exp(v - largest);
  return largest + std::log(total);
}

// Scores of two samples over three classes; the second row is twice the first, so its softmax is
// sharper: scaling logits up makes a classifier more confident.
Tensor scores() { return xgrad::tensor({{1.0f, 2.0f, 3.0f}, {2.0f, 4.0f, 6.0f}}); }
const std::vector<std::vector<double>> kRows = {{1, 2, 3}, {2, 4, 6}};

void softmax_and_log_softmax() {
  section("Softmax and LogSoftmax along the classes (dim 1)");
  show("x                 = ", scores());
  show("Softmax(x)        = ", nn::Softmax(nn::SoftmaxOptions(1))(scores()));
  show("LogSoftmax(x)     = ", nn::LogSoftmax(nn::LogSoftmaxOptions(1))(scores()));
  std::printf("by hand, row 0: log(e^1 + e^2 + e^3) = %.4f, so LogSoftmax = x - %.4f\n", logsumexp(kRows[0]),
              logsumexp(kRows[0]));
}

void nll_loss_only_picks() {
  section("NLLLoss picks -input[target] and averages: it takes no log itself");
  const Tensor target = xgrad::tensor({2, 2});
  show("NLLLoss(x, [2, 2]) = ", nn::NLLLoss()(scores(), target));
  std::printf("by hand: -(x[0][2] + x[1][2]) / 2 = -(3 + 6) / 2 = %.1f\n", -(3.0 + 6.0) / 2);
}

void cross_entropy_is_log_softmax_plus_nll() {
  section("CrossEntropyLoss = LogSoftmax + NLLLoss");
  const Tensor x = scores().detach().requires_grad_(true);
  const Tensor target = xgrad::tensor({2, 1});
  const Tensor loss = nn::CrossEntropyLoss()(x, target);
  loss.backward();
  std::printf("CrossEntropyLoss(x, [2, 1])            = %.4f\n", loss.item<double>());
  std::printf("NLLLoss(LogSoftmax(x), [2, 1])         = %.4f\n",
              nn::NLLLoss()(nn::LogSoftmax(1)(scores()), target).item<double>());
  const double row0 = logsumexp(kRows[0]) - kRows[0][2], row1 = logsumexp(kRows[1]) - kRows[1][1];
  std::printf("by hand: (%.4f - 3) + (%.4f - 4) = %.4f + %.4f, mean %.4f\n", logsumexp(kRows[0]),
              logsumexp(kRows[1]), row0, row1, (row0 + row1) / 2);

  section("Its gradient is (softmax - onehot) / N");
  show("d loss / d x          = ", x.grad());
  const Tensor onehot = xgrad::tensor({{0.0f, 0.0f, 1.0f}, {0.0f, 1.0f, 0.0f}});
  show("(softmax(x) - onehot)/2 = ", (xgrad::softmax(scores(), 1) - onehot) / 2.0);
}

void ignore_index_and_label_smoothing() {
  section("ignore_index and label_smoothing");
  const Tensor target = xgrad::tensor({2, 1});
  const double ignored = F::cross_entropy(scores(), target, nn::CrossEntropyLossOptions().ignore_index(1)).item<double>();
  std::printf("ignore_index=1: only sample 0 counts, and the mean divides by 1: %.4f (= %.4f by hand)\n", ignored,
              logsumexp(kRows[0]) - 3);
  const double smoothed =
      F::cross_entropy(scores(), target, nn::CrossEntropyLossOptions().label_smoothing(0.1)).item<double>();
  // The target becomes 0.9 * onehot + 0.1 / 3 on every class.
  double by_hand = 0.0;
  const int targets[] = {2, 1};
  for (int i = 0; i < 2; ++i)
    for (int c = 0; c < 3; ++c) {
      const double q = (c == targets[i] ? 0.9 : 0.0) + 0.1 / 3;
      by_hand += q * (logsumexp(kRows[i]) - kRows[i][c]) / 2;
    }
  std::printf("label_smoothing=0.1: target 0.9 * onehot + 0.1/3, loss %.4f (= %.4f by hand)\n", smoothed, by_hand);
}

void bce_on_sigmoid_vs_with_logits() {
  section("BCELoss(Sigmoid(z)) equals BCEWithLogitsLoss(z), which is stable for large |z|");
  const Tensor logits = xgrad::tensor({1.237228, -0.960399, 1.541529}, xgrad::kFloat64);  // float64: 7 digits agree
  const Tensor target = xgrad::tensor({1.0, 0.0, 1.0}, xgrad::kFloat64);
  std::printf("BCELoss(Sigmoid(z), y)  = %.7f\n", nn::BCELoss()(nn::Sigmoid()(logits), target).item<double>());
  std::printf("BCEWithLogitsLoss(z, y) = %.7f\n", nn::BCEWithLogitsLoss()(logits, target).item<double>());
  const double z[] = {1.237228, -0.960399, 1.541529}, y[] = {1, 0, 1};
  double by_hand = 0.0;
  for (int i = 0; i < 3; ++i) {
    const double p = 1.0 / (1.0 + std::exp(-z[i]));
    by_hand -= (y[i] * std::log(p) + (1 - y[i]) * std::log(1 - p)) / 3;
  }
  std::printf("by hand: -mean(y log p + (1 - y) log(1 - p)) = %.7f\n", by_hand);
  // In float32 sigmoid(30) rounds to exactly 1, so log(1 - p) is -inf and BCELoss clamps it at
  // -100; from the logit, the loss of a confident wrong answer is simply about z.
  const Tensor confident = xgrad::tensor({30.0f}), wrong = xgrad::tensor({0.0f});
  std::printf("z = 30, y = 0 in float32: BCELoss(Sigmoid(z)) = %.4f (clamped), BCEWithLogitsLoss = %.4f\n",
              nn::BCELoss()(nn::Sigmoid()(confident), wrong).item<double>(),
              nn::BCEWithLogitsLoss()(confident, wrong).item<double>());
}

void entropy_kl_and_cross_entropy() {
  section("cross-entropy(p, q) = entropy(p) + KL(p || q)");
  const Tensor p = xgrad::tensor({0.5, 0.3, 0.2}, xgrad::kFloat64);
  const Tensor q = xgrad::tensor({0.4, 0.4, 0.2}, xgrad::kFloat64);
  const Tensor entropy = -xgrad::sum(p * xgrad::log(p));
  // kl_div takes log q as its input and p as its target: sum p (log p - log q).
  const Tensor kl = F::kl_div(xgrad::log(q), p, nn::KLDivLossOptions().reduction(xgrad::kSum));
  // cross_entropy with probability targets applies log_softmax to its input: log q stays log q.
  const Tensor cross_entropy = F::cross_entropy(xgrad::log(q), p);
  std::printf("p = [0.5, 0.3, 0.2], q = [0.4, 0.4, 0.2]\n");
  std::printf("entropy(p)           = %.4f\n", entropy.item<double>());
  std::printf("KL(p || q)           = %.4f\n", kl.item<double>());
  std::printf("entropy + KL         = %.4f\n", entropy.item<double>() + kl.item<double>());
  std::printf("cross-entropy(p, q)  = %.4f\n", cross_entropy.item<double>());
}

int main() {
  softmax_and_log_softmax();
  nll_loss_only_picks();
  cross_entropy_is_log_softmax_plus_nll();
  ignore_index_and_label_smoothing();
  bce_on_sigmoid_vs_with_logits();
  entropy_kl_and_cross_entropy();
  return 0;
}
