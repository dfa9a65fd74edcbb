#pragma once
// MNIST and Fashion-MNIST, as torch::data::datasets::MNIST: the four IDX files
//   train-images-idx3-ubyte  train-labels-idx1-ubyte  t10k-images-idx3-ubyte  t10k-labels-idx1-ubyte
// in `root`, each plain or gzipped (name.gz). Fashion-MNIST uses the same names and format, so the
// same class reads it (Debian: apt-get install dataset-fashion-mnist, into
// /usr/share/datasets/fashion-mnist).
//
//   auto train = MNIST(root, MNIST::Mode::kTrain);   // 60000 examples; kTest: 10000
//   Example<> e = train.get(0);   // e.data (1, 28, 28) float32 in [0, 1] (byte / 255), e.target () int64
//
// The whole set is read once into one (N, 1, 28, 28) float32 tensor and one (N) int64 tensor.
// Every bad file throws Error naming the file: a missing one (with the install hint), a wrong magic
// number, wrong image dims, a truncated header or payload, a label count that differs from the image
// count, a label outside 0..9 (the last four with the byte offset).
#include <cstddef>
#include <optional>
#include <string>

#include <xgrad/data/array_ref.hpp>
#include <xgrad/data/datasets/base.hpp>

namespace xgrad::data::datasets {

class MNIST : public Dataset<MNIST> {
 public:
  enum class Mode { kTrain, kTest };

  explicit MNIST(const std::string& root, Mode mode = Mode::kTrain);

  // Image `index` (1, 28, 28) and its label (0-dim int64). Throws Error when index >= size().
  Example<> get(std::size_t index) override;
  std::optional<std::size_t> size() const override;
  bool is_train() const noexcept;
  // All images (N, 1, 28, 28) float32 and all labels (N) int64.
  const Tensor& images() const;
  const Tensor& targets() const;

  // The examples at `indices` stacked: data (B, 1, 28, 28), target (B); see datasets/map.hpp.
  Example<> stacked_batch(ArrayRef<std::size_t> indices) const;

 private:
  Tensor images_, targets_;
  bool is_train_;
};

}  // namespace xgrad::data::datasets
