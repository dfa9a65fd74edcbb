// What the peer programs share: Fashion-MNIST's IDX files read through zlib, normalised as
// examples/fashion_mnist normalises them, the epoch loop with its report, the peak resident memory
// and the median epoch.
//
// The images go to the caller one at a time, so that each library keeps them in its own sample type
// (a dlib matrix, a tiny-dnn vec_t) without a second full copy of the set raising its peak RSS.
#pragma once

#include <zlib.h>

#include <CLI/CLI.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace peers {

constexpr std::size_t kPixels = 28 * 28;
// The train set's mean and standard deviation of a pixel, as in examples/fashion_mnist.
constexpr float kMean = 0.2860f, kStd = 0.3530f;

class IdxFile {
 public:
  // <folder>/<name>.gz, or <folder>/<name> uncompressed (zlib reads either).
  IdxFile(const std::string& folder, const std::string& name) {
    const std::filesystem::path root(folder), gz = root / (name + ".gz");
    path_ = (std::filesystem::exists(gz) ? gz : root / name).string();
    file_ = gzopen(path_.c_str(), "rb");
    if (file_ == nullptr) {
      throw std::runtime_error("cannot open " + path_ + " (apt-get install dataset-fashion-mnist, or pass --data)");
    }
  }
  IdxFile(const IdxFile&) = delete;
  IdxFile& operator=(const IdxFile&) = delete;
  ~IdxFile() { gzclose(file_); }

  void read(void* into, std::size_t bytes) {
    if (gzread(file_, into, static_cast<unsigned>(bytes)) != static_cast<int>(bytes)) {
      throw std::runtime_error(path_ + " is truncated");
    }
  }

  // IDX headers are big-endian 32-bit words.
  std::uint32_t word() {
    std::array<unsigned char, 4> b{};
    read(b.data(), b.size());
    return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | std::uint32_t{b[3]};
  }

  void expect(std::uint32_t value, const char* what) {
    if (word() != value) throw std::runtime_error(path_ + ": unexpected " + what);
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

// Calls take(const float* pixels) with each image's 784 normalised pixels; returns the count.
template <class Take>
std::size_t read_images(const std::string& folder, const std::string& name, Take&& take) {
  IdxFile file(folder, name);
  file.expect(0x803, "magic number (not an IDX image file)");
  const std::uint32_t count = file.word();
  file.expect(28, "row count");
  file.expect(28, "column count");
  std::array<unsigned char, kPixels> bytes{};
  std::array<float, kPixels> pixels{};
  for (std::uint32_t i = 0; i < count; ++i) {
    file.read(bytes.data(), bytes.size());
    std::transform(bytes.begin(), bytes.end(), pixels.begin(),
                   [](unsigned char b) { return (static_cast<float>(b) / 255.0f - kMean) / kStd; });
    take(static_cast<const float*>(pixels.data()));
  }
  return count;
}

inline std::vector<unsigned long> read_labels(const std::string& folder, const std::string& name) {
  IdxFile file(folder, name);
  file.expect(0x801, "magic number (not an IDX label file)");
  std::vector<unsigned char> bytes(file.word());
  file.read(bytes.data(), bytes.size());
  return {bytes.begin(), bytes.end()};
}

// Fisher-Yates over two parallel sequences, so that a library's own sample containers are shuffled
// in place by swaps (no gathering copy) and stay usable as contiguous batches.
template <class Images, class Labels>
void shuffle_together(Images& images, Labels& labels, std::mt19937_64& rng) {
  using std::swap;
  for (std::size_t i = images.size() - 1; i > 0; --i) {
    const std::size_t j = std::uniform_int_distribution<std::size_t>(0, i)(rng);
    swap(images[i], images[j]);
    swap(labels[i], labels[j]);
  }
}

// One set in a library's own sample and label types.
template <class Image, class Label>
struct Split {
  std::vector<Image> images;
  std::vector<Label> labels;
};

// The images (each made by image(pixels) from 784 normalised pixels) and labels of one set, the first
// `limit` of each (all when 0).
template <class Label, class MakeImage>
auto read_split(const std::string& folder, const char* images, const char* labels, std::size_t limit,
                const MakeImage& image) {
  Split<decltype(image(static_cast<const float*>(nullptr))), Label> split;
  read_images(folder, images, [&](const float* pixels) { split.images.push_back(image(pixels)); });
  for (const unsigned long label : read_labels(folder, labels)) split.labels.push_back(static_cast<Label>(label));
  if (split.labels.size() != split.images.size()) throw std::runtime_error(std::string(labels) + ": wrong count");
  if (limit > 0 && limit < split.images.size()) {
    split.images.resize(limit);
    split.labels.resize(limit);
  }
  return split;
}

inline double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n == 0 ? 0.0 : n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// The training both programs run, reported as xgrad_torch_fashion_mnist reports it: each epoch
// shuffles the training set, calls step(first, last) for every batch [first, last) of it (which
// trains on it and returns its mean loss), and prints its mean loss, its seconds (training only)
// and accuracy() on the test set; then the median epoch and the peak resident memory.
template <class Set, class Step, class Accuracy>
void train_epochs(Set& train, int epochs, std::size_t batch_size, std::mt19937_64& shuffle_rng, const Step& step,
                  const Accuracy& accuracy) {
  std::vector<double> epoch_seconds;
  const std::size_t n = train.images.size();
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    double loss_sum = 0.0;
    std::size_t batches = 0;
    const auto start = std::chrono::steady_clock::now();
    shuffle_together(train.images, train.labels, shuffle_rng);
    for (std::size_t first = 0; first < n; first += batch_size) {
      loss_sum += step(first, std::min(n, first + batch_size));
      ++batches;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    epoch_seconds.push_back(seconds);
    std::printf("epoch %d: train loss %.4f, %.2f s, test accuracy %.4f\n", epoch,
                loss_sum / static_cast<double>(batches), seconds, accuracy());
    std::fflush(stdout);
  }
  std::printf("median %.2f s per epoch\n", median(epoch_seconds));
  std::printf("peak RSS %.0f MiB\n", peak_rss_mib());
}

// The options both programs take, with examples/fashion_mnist's names and defaults.
struct Settings {
  std::string data = "/usr/share/datasets/fashion-mnist";
  int epochs = 5;
  std::size_t batch_size = 64, limit = 0;
  unsigned seed = 0;
};

inline void add_options(CLI::App& app, Settings& settings) {
  app.add_option("--epochs", settings.epochs, "training epochs")->check(CLI::PositiveNumber);
  app.add_option("--data", settings.data, "folder with the four IDX files (plain or .gz)");
  app.add_option("--batch-size", settings.batch_size, "mini-batch size")->check(CLI::PositiveNumber);
  app.add_option("--limit", settings.limit, "use only the first N training and test images (0: all)");
  app.add_option("--seed", settings.seed, "seed of the weights, the dropout masks and the shuffling");
}

}  // namespace peers
