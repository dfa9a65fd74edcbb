// Trains one logistic-regression step through the installed headers and library; exits non-zero
// if the gradient is not what the formula says.
#include <xgrad/xgrad.hpp>

#include <cmath>
#include <cstdio>

int main() {
  namespace F = xgrad::nn::functional;
  xgrad::Tensor w = xgrad::tensor({{0.5, -0.25}}).requires_grad_();
  xgrad::Tensor x = xgrad::tensor({{1.0, 2.0}});
  xgrad::Tensor y = xgrad::tensor({{1.0}});
  xgrad::Tensor loss = F::binary_cross_entropy_with_logits(xgrad::matmul(x, xgrad::transpose(w, 0, 1)), y);
  loss.backward();
  // d loss / d w = (sigmoid(x.w) - y) x, with x.w = 0
  const double expected = (0.5 - 1.0) * 2.0;
  const double got = w.grad().to_vector<double>()[1];
  std::printf("consumer: loss %.6f, dw[1] %.6f (expected %.6f)\n", loss.item<double>(), got, expected);
  return std::abs(got - expected) < 1e-12 ? 0 : 1;
}
