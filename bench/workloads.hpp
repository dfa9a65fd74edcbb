#pragma once
// The training workloads every benchmark program shares: the data, the model and one full-batch SGD
// step, written with xgrad's public API only. bench/torch_compare.cpp builds the libtorch twin of each
// from the same raw numbers, so both engines see identical data and identical initial weights.
//
//   tiny   2-16-16-3,     batch 30    per-op overhead dominates
//   toy    2-64-64-3,     batch 300   overhead and small gemms share the time
//   wide   784-512-512-10, batch 256  gemm-bound
//
// and the convolutions of a LeNet-style network on 28 x 28 images (conv_workloads), timed as one
// conv2d forward + backward with input, weight and bias all requiring grad:
//   conv1  (64, 1, 28, 28)  * 16 filters 5x5 -> (64, 16, 24, 24)
//   conv2  (64, 16, 12, 12) * 32 filters 5x5 -> (64, 32, 8, 8)
#include <xgrad/xgrad.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace xgrad::bench {

struct Workload {
  const char* name;
  std::size_t features, hidden, classes, batch;
};

inline const std::vector<Workload>& workloads() {
  static const std::vector<Workload> all{
      {"tiny", 2, 16, 3, 30},
      {"toy", 2, 64, 3, 300},
      {"wide", 784, 512, 10, 256},
  };
  return all;
}

inline const Workload& workload(const std::string& name) {
  for (const Workload& w : workloads())
    if (name == w.name) return w;
  throw Error(concat("bench: no workload named ", name));
}

struct ConvWorkload {
  const char* name;
  std::int64_t batch, in_channels, size, out_channels, kernel;
  Shape input_shape() const { return {batch, in_channels, size, size}; }
  Shape weight_shape() const { return {out_channels, in_channels, kernel, kernel}; }
  Shape output_shape() const { return {batch, out_channels, size - kernel + 1, size - kernel + 1}; }
  // One pass of the direct sum (forward, input gradient or weight gradient): 2 FLOPs per term.
  double direct_flops() const {
    const double positions = static_cast<double>((size - kernel + 1) * (size - kernel + 1));
    return 2.0 * static_cast<double>(batch * out_channels * in_channels * kernel * kernel) * positions;
  }
  std::string label() const {
    return std::string("conv2d fwd+bwd ") + name + " (" + std::to_string(batch) + "," + std::to_string(in_channels) +
           "," + std::to_string(size) + "," + std::to_string(size) + ")*" + std::to_string(out_channels) + "x" +
           std::to_string(kernel) + "x" + std::to_string(kernel);
  }
};

inline const std::vector<ConvWorkload>& conv_workloads() {
  static const std::vector<ConvWorkload> all{
      {"conv1", 64, 1, 28, 16, 5},
      {"conv2", 64, 16, 12, 32, 5},
  };
  return all;
}

// Spiral classification data as raw row-major buffers (cs231n's toy set): point i belongs to class
// i % classes and sits at radius r on arm `class` of a noisy spiral. With more than two features the
// 2-D point is lifted by a fixed random projection, so the wide model sees the same kind of data.
struct Dataset {
  std::vector<float> x;               // batch x features
  std::vector<std::int64_t> labels;  // batch
};

inline Dataset spiral(const Workload& w, std::uint32_t seed = 7) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> noise(0.f, 0.2f);
  Dataset data;
  data.x.resize(w.batch * w.features);
  data.labels.resize(w.batch);
  const std::size_t per_class = (w.batch + w.classes - 1) / w.classes;
  std::vector<float> projection(2 * w.features);
  for (float& p : projection) p = noise(gen) * 5.f;
  for (std::size_t i = 0; i < w.batch; ++i) {
    const std::size_t label = i % w.classes;
    const float r = static_cast<float>(i / w.classes) / static_cast<float>(per_class);
    const float t = 4.f * (static_cast<float>(label) + r) + noise(gen);
    const float px = r * std::sin(t), py = r * std::cos(t);
    float* row = data.x.data() + i * w.features;
    if (w.features == 2) {
      row[0] = px;
      row[1] = py;
    } else {
      for (std::size_t f = 0; f < w.features; ++f) row[f] = px * projection[2 * f] + py * projection[2 * f + 1];
    }
    data.labels[i] = static_cast<std::int64_t>(label);
  }
  return data;
}

inline nn::Sequential mlp(const Workload& w) {
  const auto in = static_cast<std::int64_t>(w.features), hidden = static_cast<std::int64_t>(w.hidden),
             out = static_cast<std::int64_t>(w.classes);
  // Braces: the layers are initialised left to right whatever the compiler.
  return nn::Sequential{nn::Linear(in, hidden), nn::ReLU(), nn::Linear(hidden, hidden), nn::ReLU(),
                        nn::Linear(hidden, out)};
}

// Mean cross-entropy over the batch with PyTorch's defaults, as a user writes it.
inline Tensor training_loss(const Tensor& logits, const Tensor& labels) {
  return nn::functional::cross_entropy(logits, labels);
}

// One model with its optimiser and full-batch data: step() is the unit every benchmark times.
struct Trainer {
  explicit Trainer(const Workload& w, std::uint64_t seed = 0)
      : net((manual_seed(seed), mlp(w))), optimizer(net->parameters(), optim::SGDOptions(0.1).momentum(0.9)) {
    const Dataset data = spiral(w);
    const auto batch = static_cast<std::int64_t>(w.batch), features = static_cast<std::int64_t>(w.features);
    x = from_buffer(data.x.data(), {batch, features});
    y = from_buffer(data.labels.data(), {batch});
  }

  // zero_grad, forward, cross-entropy, backward, SGD update. Returns the loss before the update.
  float step() {
    optimizer.zero_grad();
    Tensor loss = training_loss(net(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  }

  nn::Sequential net;
  optim::SGD optimizer;
  Tensor x, y;
};

// One Adam update of a workload's model, on its own: the gradients of one training step are computed
// once and kept, so step() times optimizer.step() alone (PyTorch's defaults, lr 1e-3).
struct AdamStepper {
  explicit AdamStepper(const Workload& w, std::uint64_t seed = 0)
      : trainer(w, seed), optimizer(trainer.net->parameters()) {
    training_loss(trainer.net(trainer.x), trainer.y).backward();
  }

  void step() { optimizer.step(); }

  Trainer trainer;
  optim::Adam optimizer;
};

}  // namespace xgrad::bench
