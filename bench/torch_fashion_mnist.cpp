// The Fashion-MNIST training of examples/fashion_mnist, written for libtorch 1.13: the reference the
// README's Fashion-MNIST table compares xgrad with (same models, optimiser, batch size, data order
// rule and threads; only the engine differs).
//
//   OMP_WAIT_POLICY=passive xgrad_torch_fashion_mnist --model cnn --epochs 5 --threads 1
//
// libtorch's MNIST reader takes only the uncompressed IDX files, and Debian ships them gzipped
// (/usr/share/datasets/fashion-mnist), so the program first inflates them into a temporary folder.
// Per epoch it prints the mean training loss, the seconds the training pass took (evaluation not
// included) and the test accuracy; at the end, the process's peak resident set size.
#include <torch/torch.h>
#include <zlib.h>

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

void inflate_file(const fs::path& gz_path, const fs::path& out_path) {
  gzFile in = gzopen(gz_path.c_str(), "rb");
  if (in == nullptr) throw std::runtime_error("cannot open " + gz_path.string() + " (apt-get install dataset-fashion-mnist)");
  std::ofstream out(out_path, std::ios::binary);
  std::vector<char> chunk(1 << 16);
  for (int got; (got = gzread(in, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0;) out.write(chunk.data(), got);
  gzclose(in);
}

fs::path inflated_copy(const fs::path& root) {
  const fs::path folder = fs::temp_directory_path() / "xgrad-torch-fashion-mnist";
  fs::create_directories(folder);
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"}) {
    if (!fs::exists(folder / name)) inflate_file(root / (std::string(name) + ".gz"), folder / name);
  }
  return folder;
}

// 784-256-128-10 with ReLU and Dropout(0.2) after each hidden layer.
torch::nn::Sequential make_mlp() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Dropout(0.2), nn::Linear(256, 128),
                        nn::ReLU(), nn::Dropout(0.2), nn::Linear(128, 10));
}

// Conv(1->16, 5) ReLU MaxPool(2) Conv(16->32, 5) ReLU MaxPool(2) Flatten Linear(512, 10).
torch::nn::Sequential make_cnn() {
  namespace nn = torch::nn;
  return nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 16, 5)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Conv2d(nn::Conv2dOptions(16, 32, 5)), nn::ReLU(), nn::MaxPool2d(nn::MaxPool2dOptions(2)),
                        nn::Flatten(), nn::Linear(512, 10));
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fashion-MNIST in libtorch, for the side-by-side table in xgrad's README"};
  std::string model = "mlp", root = "/usr/share/datasets/fashion-mnist";
  int epochs = 5, threads = 1, batch_size = 64;
  std::uint64_t seed = 0;
  app.add_option("--model", model, "mlp or cnn")->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--epochs", epochs, "training epochs")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "intra-op threads")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", batch_size, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--seed", seed, "manual_seed for the weights and the shuffling");
  app.add_option("--root", root, "folder with the four IDX .gz files");
  CLI11_PARSE(app, argc, argv);

  torch::set_num_threads(threads);
  torch::manual_seed(seed);
  const std::string data = inflated_copy(root).string();
  namespace data_ns = torch::data;
  auto train_set = data_ns::datasets::MNIST(data, data_ns::datasets::MNIST::Mode::kTrain)
                       .map(data_ns::transforms::Normalize<>(0.2860, 0.3530))
                       .map(data_ns::transforms::Stack<>());
  auto test_set = data_ns::datasets::MNIST(data, data_ns::datasets::MNIST::Mode::kTest)
                      .map(data_ns::transforms::Normalize<>(0.2860, 0.3530))
                      .map(data_ns::transforms::Stack<>());
  auto train_loader = data_ns::make_data_loader(std::move(train_set), data_ns::DataLoaderOptions().batch_size(batch_size));
  auto test_loader = data_ns::make_data_loader<data_ns::samplers::SequentialSampler>(
      std::move(test_set), data_ns::DataLoaderOptions().batch_size(1000));

  torch::nn::Sequential net = model == "cnn" ? make_cnn() : make_mlp();
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3));
  std::printf("libtorch %s, %d thread(s), model %s, batch %d\n", TORCH_VERSION, threads, model.c_str(), batch_size);
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    net->train();
    double loss_sum = 0.0;
    std::int64_t batches = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto& batch : *train_loader) {
      optimizer.zero_grad();
      torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(batch.data), batch.target);
      loss.backward();
      optimizer.step();
      loss_sum += loss.item<double>();
      ++batches;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    net->eval();
    torch::NoGradGuard no_grad;
    std::int64_t correct = 0, total = 0;
    for (auto& batch : *test_loader) {
      correct += net->forward(batch.data).argmax(1).eq(batch.target).sum().item<std::int64_t>();
      total += batch.target.size(0);
    }
    std::printf("epoch %d: train loss %.4f, %.2f s, test accuracy %.4f\n", epoch, loss_sum / static_cast<double>(batches),
                seconds, static_cast<double>(correct) / static_cast<double>(total));
  }
  std::printf("peak RSS %.0f MiB\n", peak_rss_mib());
}
