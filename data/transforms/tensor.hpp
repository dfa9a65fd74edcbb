#pragma once
// Transforms that change an example's data tensor and keep its target, as torch::data::transforms:
//
//   TensorTransform<Target>   base: override Tensor operator()(Tensor data)
//   TensorLambda<Target>      from a function Tensor(Tensor)
//   Normalize<Target>         (data - mean) / stddev per channel
//
//   MNIST(root).map(Normalize<>(0.2860, 0.3530))             // one channel
//   images.map(Normalize<>({0.5, 0.4, 0.3}, {0.2, 0.2, 0.2}))   // three channels
#include <functional>
#include <utility>
#include <vector>

#include <xgrad/data/example.hpp>
#include <xgrad/data/transforms/base.hpp>

namespace xgrad::data::transforms {

template <typename Target = Tensor>
class TensorTransform : public Transform<Example<Tensor, Target>, Example<Tensor, Target>> {
 public:
  using E = Example<Tensor, Target>;
  using typename Transform<E, E>::InputType;
  using typename Transform<E, E>::OutputType;

  virtual Tensor operator()(Tensor input) = 0;

  OutputType apply(InputType input) override {
    input.data = (*this)(std::move(input.data));
    return input;
  }
};

template <typename Target = Tensor>
class TensorLambda : public TensorTransform<Target> {
 public:
  using FunctionType = std::function<Tensor(Tensor)>;

  explicit TensorLambda(FunctionType function) : function_(std::move(function)) {}
  Tensor operator()(Tensor input) override { return function_(std::move(input)); }

 private:
  FunctionType function_;
};

namespace detail {
// The values as a float32 tensor of shape (C, 1, 1), so that it broadcasts over an image's
// (C, H, W); `name` and `transform` go into the Error for an empty list.
Tensor per_channel(const std::vector<double>& values, const char* transform, const char* name);
// Throws Error unless mean and stddev have as many channels, or one of them has a single value.
void check_channels(const Tensor& mean, const Tensor& stddev);
// (data - mean) / stddev for a stacked batch (N, ...) with the result each example would get alone:
// one broadcast when an example has at least 3 dims (the channel dim lines up the same way), else
// example by example.
Tensor normalize_stacked(const Tensor& data, const Tensor& mean, const Tensor& stddev);
}  // namespace detail

// output = (input - mean) / stddev, with mean and stddev given per channel (one number for all
// channels, or a list whose length is the number of channels, dim -3 of each example). A stddev of
// 0 gives inf or nan, as in libtorch.
template <typename Target = Tensor>
struct Normalize : public TensorTransform<Target> {
  Normalize(double mean, double stddev) : Normalize(std::vector<double>{mean}, std::vector<double>{stddev}) {}
  Normalize(const std::vector<double>& mean, const std::vector<double>& stddev)
      : mean(detail::per_channel(mean, "Normalize", "mean")),
        stddev(detail::per_channel(stddev, "Normalize", "stddev")) {
    detail::check_channels(this->mean, this->stddev);
  }

  Tensor operator()(Tensor input) override { return input.sub(mean).div(stddev); }

  // The same transform on a batch already stacked to (N, ...) (MapDataset's fast path).
  Example<Tensor, Target> apply_stacked(Example<Tensor, Target> batch) {
    batch.data = detail::normalize_stacked(batch.data, mean, stddev);
    return batch;
  }

  Tensor mean, stddev;
};

}  // namespace xgrad::data::transforms
