// Trains one logistic-regression step through the installed headers and library; exits non-zero
// if the gradient is not what the formula says, if a module written as a libtorch program
// writes it (XGRAD_MODULE, register_module, Sequential) does not run, if a checkpoint (which
// needs xgrad's private libzip on a static library's link line) does not round-trip, or if the data
// loader (worker threads) or MNIST's reader (zlib, private too) fails.
// Without xtensor's headers, the installed umbrella must still give a whole program.
#define XGRAD_NO_XTENSOR
#include <xgrad/xgrad.hpp>
#ifdef XTENSOR_VERSION_MAJOR
#error "<xgrad/xgrad.hpp> with XGRAD_NO_XTENSOR included xtensor"
#endif

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace nn = xgrad::nn;

struct NetImpl : nn::Module {
  NetImpl() : body(register_module("body", nn::Sequential{nn::Linear(2, 4), nn::ReLU()})) {
    head = register_module("head", nn::Linear(4, 1));
  }
  xgrad::Tensor forward(xgrad::Tensor x) { return head(body(x)); }
  nn::Sequential body;
  nn::Linear head{nullptr};
};
XGRAD_MODULE(Net);

int main() {
  namespace F = xgrad::nn::functional;
  xgrad::Tensor w = xgrad::tensor({{0.5, -0.25}}, xgrad::kFloat64).requires_grad_();
  xgrad::Tensor x = xgrad::tensor({{1.0, 2.0}}, xgrad::kFloat64);
  xgrad::Tensor y = xgrad::tensor({{1.0}}, xgrad::kFloat64);
  xgrad::Tensor loss = F::binary_cross_entropy_with_logits(xgrad::matmul(x, xgrad::transpose(w, 0, 1)), y);
  loss.backward();
  // d loss / d w = (sigmoid(x.w) - y) x, with x.w = 0
  const double expected = (0.5 - 1.0) * 2.0;
  const double got = w.grad().to_vector<double>()[1];
  std::printf("consumer: loss %.6f, dw[1] %.6f (expected %.6f)\n", loss.item<double>(), got, expected);

  Net net;
  const bool module_runs = net(xgrad::ones({3, 2})).sizes() == xgrad::IntArrayRef({3, 1}) &&
                           net->named_parameters().keys().front() == "body.0.weight";
  std::printf("consumer: Net has %zu parameters\n", net->parameters().size());

  const std::string checkpoint = (std::filesystem::temp_directory_path() / "xgrad_consumer_net.npz").string();
  xgrad::save(net, checkpoint);
  Net restored;
  xgrad::load(restored, checkpoint);
  std::filesystem::remove(checkpoint);
  const bool round_trip = restored->named_parameters()["head.weight"].to_vector<float>() ==
                          net->named_parameters()["head.weight"].to_vector<float>();
  std::printf("consumer: checkpoint round trip %s\n", round_trip ? "exact" : "differs");

  namespace data = xgrad::data;
  auto rows = data::datasets::TensorDataset(xgrad::ones({10, 2}), xgrad::zeros({10}, xgrad::kLong))
                  .map(data::transforms::Stack<>());
  auto loader = data::make_data_loader(std::move(rows), data::DataLoaderOptions().batch_size(4).workers(2));
  int64_t examples = 0;
  for (auto& batch : *loader) examples += batch.data.size(0);
  bool mnist_reports = false;
  try {
    data::datasets::MNIST("no-such-folder");
  } catch (const xgrad::Error& error) {
    mnist_reports = std::string(error.what()).find("missing file") != std::string::npos;
  }
  std::printf("consumer: the loader gave %lld examples\n", static_cast<long long>(examples));
  return std::abs(got - expected) < 1e-12 && module_runs && round_trip && examples == 10 && mnist_reports ? 0 : 1;
}
