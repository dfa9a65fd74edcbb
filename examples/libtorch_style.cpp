// libtorch_style: a program written the way libtorch's C++ examples are written. Replace `xgrad`
// with `torch` (and <xgrad/xgrad.hpp> with <torch/torch.h>, XGRAD_MODULE with TORCH_MODULE) and it
// is a libtorch 1.13 program.
//
// It learns to tell apart four kinds of noisy 8x8 pictures (a horizontal bar, a vertical bar and
// the two diagonals) with a small network: a module with holder members, a by-value forward, a
// -1 view, mini-batches sliced from a tensor, SGD with momentum, and the accuracy counted with
// std::get<1>(output.max(1)) and pred.eq(target).sum().item<int64_t>().
#include <xgrad/xgrad.hpp>

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <tuple>
#include <utility>
#include <vector>

namespace nn = xgrad::nn;

// `count` pictures of shape [1, 8, 8] and their kinds (0..3): the kind's pattern, brightened,
// plus Gaussian noise.
std::pair<xgrad::Tensor, xgrad::Tensor> make_pictures(int64_t count) {
  const xgrad::Tensor rows = xgrad::arange(8).view({8, 1}).expand({8, 8});
  const xgrad::Tensor cols = xgrad::arange(8).view({1, 8}).expand({8, 8});
  const std::vector<xgrad::Tensor> patterns = {rows.eq(3), cols.eq(4), rows.eq(cols), (rows + cols).eq(7)};
  const xgrad::Tensor pattern_bank = xgrad::stack(patterns).to(xgrad::kFloat);  // [4, 8, 8]
  xgrad::Tensor targets = xgrad::randint(0, 4, {count});
  xgrad::Tensor images = pattern_bank.index_select(0, targets).unsqueeze(1) + xgrad::randn({count, 1, 8, 8}) * 0.9;
  return {images, targets};
}

struct NetImpl : nn::Module {
  NetImpl()
      : fc1(register_module("fc1", nn::Linear(64, 32))),
        head(register_module("head", nn::Sequential(nn::ReLU(), nn::Linear(32, 4)))) {}

  xgrad::Tensor forward(xgrad::Tensor x) {
    x = x.view({-1, 64});
    x = fc1->forward(x);
    return xgrad::log_softmax(head->forward(x), /*dim=*/1);
  }

  nn::Linear fc1{nullptr};
  nn::Sequential head{nullptr};
};
XGRAD_MODULE(Net);

int main() {
  xgrad::manual_seed(1);
  xgrad::Device device(xgrad::cuda::is_available() ? xgrad::kCUDA : xgrad::kCPU);
  auto [train_images, train_targets] = make_pictures(2048);
  auto [test_images, test_targets] = make_pictures(512);

  Net net;
  net->to(device);
  std::cout << *net << "\n";
  for (const auto& pair : net->named_parameters()) std::cout << pair.key() << ": " << pair.value().sizes() << "\n";

  xgrad::optim::SGD optimizer(net->parameters(), xgrad::optim::SGDOptions(0.05).momentum(0.9));
  const int64_t batch_size = 64;
  double accuracy = 0.0;
  for (int epoch = 1; epoch <= 4; ++epoch) {
    net->train();
    double loss_sum = 0.0;
    for (int64_t start = 0; start < train_images.size(0); start += batch_size) {
      auto data = train_images.slice(0, start, start + batch_size).to(device);
      auto target = train_targets.slice(0, start, start + batch_size).to(device);
      optimizer.zero_grad();
      auto output = net->forward(data);
      auto loss = xgrad::nll_loss(output, target);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>() * static_cast<double>(data.size(0));
    }

    net->eval();
    xgrad::NoGradGuard no_grad;
    auto output = net(test_images.to(device));
    auto pred = std::get<1>(output.max(1));
    const int64_t correct = pred.eq(test_targets).sum().item<int64_t>();
    accuracy = static_cast<double>(correct) / static_cast<double>(test_targets.size(0));
    std::printf("epoch %d  train loss %.4f  test accuracy %.3f\n", epoch,
                loss_sum / static_cast<double>(train_images.size(0)), accuracy);
  }
  std::printf("accuracy %.3f\n", accuracy);
  return 0;
}
