// Fashion-MNIST: a classifier of clothing photographs trained with xgrad's libtorch-shaped API.
//
//   fashion_mnist [--model mlp|cnn] [--epochs 5] [--limit N] [--threads 1] [--workers 0]
//                 [--data /usr/share/datasets/fashion-mnist] [--out .] [--resume]
//
// The data comes through xgrad::data (MNIST reader, Normalize, Stack, make_data_loader); each epoch
// shows a progress bar (loss, images per second) and the test accuracy; at the end the confusion
// matrix by class, misclassified.png (test images the model got wrong, with both labels) and
// curves.png (training loss and test accuracy). After every epoch the model and the Adam state go
// to <out>/checkpoint, which --resume continues from. Without the data set it says how to get it and
// exits with 77 (the test suite's "skipped").
#include <CLI/CLI.hpp>
#include <xgrad/xgrad.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "checkpoint.hpp"
#include "evaluation.hpp"
#include "model.hpp"
#include "pictures.hpp"
#include "progress.hpp"

namespace {

namespace data = xgrad::data;
using xgrad::Tensor;

constexpr int kMissingData = 77;
// The train set's mean and standard deviation of a pixel.
constexpr double kMean = 0.2860, kStd = 0.3530;
constexpr std::size_t kMistakesShown = 32;

struct Settings {
  std::string data = "/usr/share/datasets/fashion-mnist", model = "mlp", out = ".";
  int epochs = 5, threads = 1;
  std::int64_t limit = 0;
  std::size_t workers = 0, batch_size = 64;
  double lr = 1e-3;
  std::uint64_t seed = 0;
  bool resume = false;
};

bool has_dataset(const std::string& root) {
  namespace fs = std::filesystem;
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                           "t10k-labels-idx1-ubyte"}) {
    if (!fs::exists(fs::path(root) / name) && !fs::exists(fs::path(root) / (std::string(name) + ".gz"))) return false;
  }
  return true;
}

// The first `limit` examples (all when limit is 0), normalised and stacked into batches.
auto prepared(const data::datasets::MNIST& mnist, std::int64_t limit) {
  const std::int64_t all = mnist.images().size(0);
  const std::int64_t n = limit > 0 ? std::min(limit, all) : all;
  // A slice copies (xgrad's views do), so the whole set is shared instead.
  const auto first = [&](const Tensor& t) { return n == all ? t : t.slice(0, 0, n); };
  return data::datasets::TensorDataset(first(mnist.images()), first(mnist.targets()))
      .map(data::transforms::Normalize<>(kMean, kStd))
      .map(data::transforms::Stack<>());
}

// Trains one epoch; returns the mean loss over its batches.
template <class Loader>
double train_epoch(xgrad::nn::Sequential& net, xgrad::optim::Adam& optimizer, Loader& loader, std::int64_t batches,
                 int epoch, const Settings& settings, fashion::History& history) {
  net->train();
  examples::ProgressBar bar("epoch " + std::to_string(epoch) + "/" + std::to_string(settings.epochs), batches);
  const std::int64_t stretch = std::max<std::int64_t>(1, batches / 20);  // 20 points per epoch on the curve
  double stretch_loss = 0.0;
  std::int64_t done = 0;
  for (auto& batch : *loader) {
    optimizer.zero_grad();
    Tensor loss = xgrad::nn::functional::cross_entropy(net->forward(batch.data), batch.target);
    loss.backward();
    optimizer.step();
    const double value = loss.item<double>();
    bar.step(batch.data.size(0), value);
    stretch_loss += value;
    if (++done % stretch == 0 || done == batches) {
      const std::int64_t in_stretch = done % stretch == 0 ? stretch : done % stretch;
      history.loss_x.push_back(epoch - 1 + static_cast<double>(done) / static_cast<double>(batches));
      history.loss.push_back(stretch_loss / static_cast<double>(in_stretch));
      stretch_loss = 0.0;
    }
  }
  bar.finish();
  return bar.mean_loss();
}

template <class Loader>
fashion::Evaluation evaluate(xgrad::nn::Sequential& net, Loader& loader) {
  net->eval();
  xgrad::NoGradGuard no_grad;
  fashion::Evaluation evaluation;
  for (auto& batch : *loader) {
    fashion::add_batch(evaluation, net->forward(batch.data), batch.target, batch.data, {kMean, kStd}, kMistakesShown);
  }
  return evaluation;
}

int run(const Settings& settings) {
  if (!has_dataset(settings.data)) {
    std::fprintf(stderr,
                 "fashion_mnist: no Fashion-MNIST in %s.\n"
                 "Install it with `apt-get install dataset-fashion-mnist`\n"
                 "(files in /usr/share/datasets/fashion-mnist),\n"
                 "or pass --data with a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,\n"
                 "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may be .gz).\n",
                 settings.data.c_str());
    return kMissingData;
  }
  xgrad::set_num_threads(settings.threads);
  xgrad::manual_seed(settings.seed);
  const data::datasets::MNIST train_set(settings.data, data::datasets::MNIST::Mode::kTrain);
  const data::datasets::MNIST test_set(settings.data, data::datasets::MNIST::Mode::kTest);
  auto train_data = prepared(train_set, settings.limit);
  const auto train_size = static_cast<std::int64_t>(train_data.size().value());
  const std::int64_t batches = (train_size + static_cast<std::int64_t>(settings.batch_size) - 1) /
                               static_cast<std::int64_t>(settings.batch_size);
  auto train_loader = data::make_data_loader(
      std::move(train_data), data::DataLoaderOptions().batch_size(settings.batch_size).workers(settings.workers));
  auto test_data = prepared(test_set, settings.limit);
  const std::size_t test_size = test_data.size().value();
  auto test_loader = data::make_data_loader<data::samplers::SequentialSampler>(
      std::move(test_data), data::DataLoaderOptions().batch_size(1000).workers(settings.workers));

  xgrad::nn::Sequential net = fashion::make_model(settings.model);
  xgrad::optim::Adam optimizer(net->parameters(), xgrad::optim::AdamOptions(settings.lr));
  const std::string checkpoint = settings.out + "/checkpoint";
  fashion::Progress progress{settings.model, 0, {}};
  if (settings.resume) {
    progress = fashion::load_checkpoint(checkpoint, net, optimizer, settings.model);
    std::printf("resumed from %s after epoch %d\n", checkpoint.c_str(), progress.epochs_done);
    // Not the shuffles of the epochs already done (the generator's state is not in the checkpoint).
    xgrad::manual_seed(settings.seed + static_cast<std::uint64_t>(progress.epochs_done));
  }
  std::printf("model %s, %lld training and %zu test images, batch %zu, %d thread(s), %zu loader worker(s)\n",
              settings.model.c_str(), static_cast<long long>(train_size), test_size, settings.batch_size,
              settings.threads, settings.workers);

  fashion::Evaluation evaluation;
  for (int epoch = progress.epochs_done + 1; epoch <= settings.epochs; ++epoch) {
    const double loss = train_epoch(net, optimizer, train_loader, batches, epoch, settings, progress.history);
    evaluation = evaluate(net, test_loader);
    std::printf("epoch %d: train loss %.4f, test accuracy %.4f\n", epoch, loss, evaluation.accuracy());
    progress.history.accuracy_x.push_back(epoch);
    progress.history.accuracy.push_back(evaluation.accuracy());
    progress.epochs_done = epoch;
    fashion::save_checkpoint(checkpoint, net, optimizer, progress);
  }
  if (evaluation.total == 0) evaluation = evaluate(net, test_loader);  // nothing left to train after --resume
  std::printf("test accuracy %.4f (%lld of %lld)\n%s", evaluation.accuracy(),
              static_cast<long long>(evaluation.correct), static_cast<long long>(evaluation.total),
              fashion::confusion_table(evaluation).c_str());

  const std::string mistakes = settings.out + "/misclassified.png", curves = settings.out + "/curves.png";
  if (!fashion::draw_mistakes(evaluation.mistakes, mistakes) || !fashion::draw_curves(progress.history, curves)) {
    std::fprintf(stderr, "fashion_mnist: cannot write the pictures into %s\n", settings.out.c_str());
    return 1;
  }
  std::printf("wrote %s and %s\n", mistakes.c_str(), curves.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train a Fashion-MNIST classifier with xgrad"};
  Settings settings;
  app.add_option("--data", settings.data, "folder with the four IDX files (plain or .gz)");
  app.add_option("--model", settings.model, "mlp or cnn")->check(CLI::IsMember({"mlp", "cnn"}));
  app.add_option("--epochs", settings.epochs, "epochs to train (in all, counting resumed ones)")
      ->check(CLI::PositiveNumber);
  app.add_option("--limit", settings.limit, "use only the first N training and test images (0: all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--threads", settings.threads, "threads for the matrix products")->check(CLI::PositiveNumber);
  app.add_option("--workers", settings.workers, "background threads preparing batches");
  app.add_option("--batch-size", settings.batch_size, "training batch size")->check(CLI::PositiveNumber);
  app.add_option("--lr", settings.lr, "Adam's learning rate")->check(CLI::PositiveNumber);
  app.add_option("--seed", settings.seed, "manual_seed for the weights, dropout and shuffling");
  app.add_option("--out", settings.out, "folder for the pictures and the checkpoint");
  app.add_flag("--resume", settings.resume, "continue from <out>/checkpoint");
  CLI11_PARSE(app, argc, argv);
  try {
    std::filesystem::create_directories(settings.out);
    return run(settings);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "fashion_mnist: %s\n", error.what());
    return 1;
  }
}
