#include <xgrad/data/datasets/mnist.hpp>

#include <cstdint>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/data/datasets/idx_impl.hpp>
#include <xgrad/data/datasets/rows.hpp>

namespace xgrad::data::datasets {

namespace {

constexpr const char* kDataset = "MNIST";
constexpr const char* kInstallHint =
    "for Fashion-MNIST: apt-get install dataset-fashion-mnist (files in /usr/share/datasets/fashion-mnist)";
constexpr std::uint32_t kSide = 28;
constexpr std::int64_t kClasses = 10;

// Images: magic, count, rows, cols at byte offsets 0, 4, 8, 12, then count * 28 * 28 pixels.
Tensor read_images(const std::string& root, const std::string& prefix) {
  // Streamed: the pixels become floats as they inflate, so the 47 MB of bytes of the training set
  // are never held beside its 188 MB of floats.
  idx::Stream stream(root, prefix + "-images-idx3-ubyte", kDataset, kInstallHint);
  const idx::File header = stream.header(16);
  idx::check_magic(header, 3, kDataset);
  const std::uint32_t count = idx::read_u32(header, 4, "image count", kDataset);
  const std::uint32_t rows = idx::read_u32(header, 8, "row count", kDataset);
  const std::uint32_t cols = idx::read_u32(header, 12, "column count", kDataset);
  if (rows != kSide || cols != kSide) {
    throw Error(concat(kDataset, ": ", header.path, ": images are ", rows, " x ", cols,
                       " (dims at byte offsets 8 and 12), expected ", kSide, " x ", kSide));
  }
  const std::uint64_t pixels = std::uint64_t{count} * kSide * kSide;
  // Allocated only for a count the file's size allows.
  if (pixels > stream.most_bytes() - header.bytes.size()) stream.refuse(pixels, "pixels");
  Array<float> images = Array<float>::from_shape({count, 1, kSide, kSide});
  float* to = images.data();
  stream.read(pixels, "pixels", [&](const std::uint8_t* from, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) to[i] = static_cast<float>(from[i]) / 255.0f;
    to += n;
  });
  return make_tensor(std::move(images));
}

// Labels: magic and count at byte offsets 0 and 4, then count labels of one byte.
Tensor read_labels(const std::string& root, const std::string& prefix, std::uint32_t expected_count) {
  const idx::File file = idx::read(root, prefix + "-labels-idx1-ubyte", kDataset, kInstallHint);
  idx::check_magic(file, 1, kDataset);
  const std::uint32_t count = idx::read_u32(file, 4, "label count", kDataset);
  if (count != expected_count) {
    throw Error(concat(kDataset, ": ", file.path, ": label count ", count, " at byte offset 4 differs from the ",
                       expected_count, " images"));
  }
  idx::check_payload(file, 8, count, "labels", kDataset);
  Array<std::int64_t> labels = Array<std::int64_t>::from_shape({count});
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::uint8_t label = file.bytes[8 + std::size_t{i}];
    if (label >= kClasses) {
      throw Error(concat(kDataset, ": ", file.path, ": label ", int{label}, " at byte offset ", 8 + std::size_t{i},
                         " is out of range (expected 0 to ", kClasses - 1, ")"));
    }
    labels(i) = label;
  }
  return make_tensor(std::move(labels));
}

}  // namespace

MNIST::MNIST(const std::string& root, Mode mode) : is_train_(mode == Mode::kTrain) {
  const std::string prefix = is_train_ ? "train" : "t10k";
  images_ = read_images(root, prefix);
  targets_ = read_labels(root, prefix, static_cast<std::uint32_t>(images_.size(0)));
}

Example<> MNIST::get(std::size_t index) {
  check_index(index, static_cast<std::size_t>(images_.size(0)), kDataset);
  const auto i = static_cast<std::int64_t>(index);
  return {images_[i], targets_[i]};
}

std::optional<std::size_t> MNIST::size() const { return static_cast<std::size_t>(images_.size(0)); }

bool MNIST::is_train() const noexcept { return is_train_; }

const Tensor& MNIST::images() const { return images_; }

const Tensor& MNIST::targets() const { return targets_; }

Example<> MNIST::stacked_batch(ArrayRef<std::size_t> indices) const {
  return {gather_rows(images_, indices, kDataset), gather_rows(targets_, indices, kDataset)};
}

}  // namespace xgrad::data::datasets
