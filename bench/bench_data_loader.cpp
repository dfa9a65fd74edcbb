// One epoch of Fashion-MNIST train (60000 images, batch 64) through make_data_loader, against a raw
// loop that gathers the same batches by hand, so that the loader's per-batch overhead shows.
//
//   xgrad_bench_data [root]     (default /usr/share/datasets/fashion-mnist)
//
// Each line is the best of five epochs, in milliseconds per epoch and microseconds per batch:
//   raw loop            randperm, then index_select of the rows and (x - mean) / std per batch
//   loader, workers 0   MNIST.map(Normalize).map(Stack): the stacked fast path, on this thread
//   loader, workers 2   the same on two background threads
//   generic route       Normalize, an identity TensorLambda, Stack: a tensor per example, then stack
#include <xgrad/xgrad.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace data = xgrad::data;
using xgrad::Tensor;

namespace {

constexpr double kMean = 0.2860, kStd = 0.3530;
constexpr int64_t kBatch = 64;

double best_ms(const std::function<int64_t()>& epoch, int64_t& batches) {
  double best = 1e300;
  for (int run = 0; run < 5; ++run) {
    const auto start = std::chrono::steady_clock::now();
    batches = epoch();
    const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    best = std::min(best, took.count());
  }
  return best;
}

void report(const char* name, const std::function<int64_t()>& epoch) {
  int64_t batches = 0;
  const double ms = best_ms(epoch, batches);
  std::printf("%-20s %8.1f ms/epoch %8.1f us/batch (%lld batches)\n", name, ms, 1000.0 * ms / double(batches),
              static_cast<long long>(batches));
}

template <class Loader>
int64_t drain(Loader& loader) {
  int64_t batches = 0;
  for (auto& batch : *loader) batches += batch.data.size(0) > 0 ? 1 : 0;
  return batches;
}

auto normalized(const data::datasets::MNIST& mnist) {
  return data::datasets::MNIST(mnist).map(data::transforms::Normalize<>(kMean, kStd));
}

}  // namespace

int main(int argc, char** argv) {
  const std::string root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const auto load_start = std::chrono::steady_clock::now();
  std::unique_ptr<data::datasets::MNIST> train;
  try {
    train = std::make_unique<data::datasets::MNIST>(root, data::datasets::MNIST::Mode::kTrain);
  } catch (const xgrad::Error& error) {
    std::printf("%s\n", error.what());
    return 1;
  }
  const std::chrono::duration<double, std::milli> load = std::chrono::steady_clock::now() - load_start;
  std::printf("read %zu images (gzipped IDX) in %.1f ms\n", train->size().value(), load.count());

  report("raw loop", [&] {
    const Tensor order = xgrad::randperm(train->images().size(0));
    int64_t batches = 0;
    for (int64_t start = 0; start < order.size(0); start += kBatch) {
      const Tensor index = order.slice(0, start, std::min(start + kBatch, order.size(0)));
      const Tensor images = (train->images().index_select(0, index) - kMean) / kStd;
      const Tensor labels = train->targets().index_select(0, index);
      batches += images.size(0) > 0 ? 1 : 0;
    }
    return batches;
  });
  for (size_t workers : {0, 2}) {
    auto loader = data::make_data_loader(normalized(*train).map(data::transforms::Stack<>()),
                                         data::DataLoaderOptions().batch_size(kBatch).workers(workers));
    report(workers == 0 ? "loader, workers 0" : "loader, workers 2", [&] { return drain(loader); });
  }
  auto generic = data::make_data_loader(normalized(*train)
                                            .map(data::transforms::TensorLambda<>([](Tensor x) { return x; }))
                                            .map(data::transforms::Stack<>()),
                                        data::DataLoaderOptions().batch_size(kBatch));
  report("generic route", [&] { return drain(generic); });
  return 0;
}
