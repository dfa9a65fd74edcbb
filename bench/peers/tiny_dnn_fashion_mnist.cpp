// examples/fashion_mnist's MLP trained with tiny-dnn, a peer of bench/torch_fashion_mnist.cpp:
// 784-256-128-10 with ReLU and Dropout(0.2) after each hidden layer, softmax output with
// cross_entropy_multiclass, Adam (alpha 1e-3), batches of 64 shuffled each epoch, images normalised
// with mean 0.2860 and standard deviation 0.3530, one thread (built with CNN_SINGLE_THREAD).
//
//   xgrad_peer_tiny_dnn_fashion_mnist --epochs 5 [--data /usr/share/datasets/fashion-mnist]
//
// Per epoch it prints the mean training loss, the seconds the training pass took (shuffling
// included, evaluation not) and the test accuracy; at the end the median epoch and the process's
// peak resident set size, worded as xgrad_torch_fashion_mnist words them.
#include <tiny_dnn/tiny_dnn.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "fashion_mnist_idx.hpp"

namespace {

namespace tdnn = tiny_dnn;

// tiny-dnn 1.0.0a3's dropout_layer keeps a unit when bernoulli(rate) is true, that is with
// probability `rate`, yet scales what it keeps by 1 / (1 - rate): dropout_layer(n, 0.2) drops 80% of
// the units and leaves the training activations at a quarter of the evaluation ones (tiny-dnn issue
// 961). This layer draws the mask with 1 - rate, as the layer means to, from the same generator and
// with the same loops, so it costs what the stock layer costs; --stock-dropout trains with the
// stock layer instead.
class InvertedDropout : public tdnn::dropout_layer {
 public:
  InvertedDropout(tdnn::serial_size_t size, tdnn::float_t rate)
      : dropout_layer(size, rate), keep_(tdnn::float_t(1) - rate), scale_(tdnn::float_t(1) / keep_) {}

  void forward_propagation(const std::vector<tdnn::tensor_t*>& in_data,
                           std::vector<tdnn::tensor_t*>& out_data) override {
    const tdnn::tensor_t& in = *in_data[0];
    tdnn::tensor_t& out = *out_data[0];
    if (mask_.size() < in.size()) mask_.resize(in.size(), std::vector<std::uint8_t>(in[0].size()));
    for (std::size_t sample = 0; sample < in.size(); ++sample) {
      const tdnn::vec_t& x = in[sample];
      tdnn::vec_t& y = out[sample];
      std::vector<std::uint8_t>& mask = mask_[sample];
      if (training_) {
        for (std::size_t i = 0; i < x.size(); ++i) mask[i] = tdnn::bernoulli(keep_);
        for (std::size_t i = 0; i < x.size(); ++i) y[i] = mask[i] * scale_ * x[i];
      } else {
        std::copy(x.begin(), x.end(), y.begin());
      }
    }
  }

  // The gradient carries the scale too, which the stock layer's backward leaves out.
  void back_propagation(const std::vector<tdnn::tensor_t*>& /*in_data*/,
                        const std::vector<tdnn::tensor_t*>& /*out_data*/, std::vector<tdnn::tensor_t*>& out_grad,
                        std::vector<tdnn::tensor_t*>& in_grad) override {
    tdnn::tensor_t& prev_delta = *in_grad[0];
    const tdnn::tensor_t& curr_delta = *out_grad[0];
    for (std::size_t sample = 0; sample < prev_delta.size(); ++sample) {
      for (std::size_t i = 0; i < curr_delta[sample].size(); ++i) {
        prev_delta[sample][i] = mask_[sample][i] * scale_ * curr_delta[sample][i];
      }
    }
  }

  void set_context(tdnn::net_phase phase) override { training_ = phase == tdnn::net_phase::train; }

 private:
  tdnn::float_t keep_, scale_;
  bool training_ = true;
  std::vector<std::vector<std::uint8_t>> mask_;
};

// Every train()/fit() call starts with optimizer.reset(), which clears Adam's moments. This program
// calls train() once per mini-batch (below), so the reset is skipped to keep the moments from step
// to step, as one train() call over all the epochs would keep them.
struct PersistentAdam : tdnn::adam {
  void reset() override {}
};

using Split = peers::Split<tdnn::vec_t, tdnn::label_t>;

Split read_split(const std::string& folder, const char* images, const char* labels, std::size_t limit) {
  return peers::read_split<tdnn::label_t>(folder, images, labels, limit, [](const float* pixels) {
    return tdnn::vec_t(pixels, pixels + peers::kPixels);
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"examples/fashion_mnist's MLP in tiny-dnn, beside xgrad_torch_fashion_mnist"};
  peers::Settings settings;
  auto& [data, epochs, batch_size, limit, seed] = settings;
  bool stock_dropout = false;
  peers::add_options(app, settings);
  app.add_flag("--stock-dropout", stock_dropout, "tiny-dnn's own dropout_layer (which keeps 20%, not 80%)");
  CLI11_PARSE(app, argc, argv);

  try {
    tdnn::set_random_seed(seed);
    std::mt19937_64 shuffle_rng(seed);
    Split train = read_split(data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", limit);
    const Split test = read_split(data, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", limit);

    using Relu = tdnn::activation::relu;
    tdnn::network<tdnn::sequential> net;
    const auto dropout = [&](tdnn::serial_size_t size) {
      if (stock_dropout) {
        net << tdnn::dropout_layer(size, 0.2f);
      } else {
        net << InvertedDropout(size, 0.2f);
      }
    };
    net << tdnn::fully_connected_layer<Relu>(784, 256);
    dropout(256);
    net << tdnn::fully_connected_layer<Relu>(256, 128);
    dropout(128);
    net << tdnn::fully_connected_layer<tdnn::activation::softmax>(128, 10);
    PersistentAdam optimizer;
    optimizer.alpha = 1e-3f;
    const tdnn::layer& output_layer = *net[net.depth() - 1];

    std::printf("tiny-dnn, 1 thread(s), model mlp, batch %zu%s\n", batch_size,
                stock_dropout ? ", stock dropout_layer" : "");
    std::vector<tdnn::vec_t> batch_images;
    std::vector<tdnn::label_t> batch_labels;
    peers::train_epochs(
        train, epochs, batch_size, shuffle_rng,
        [&](std::size_t first, std::size_t last) {
          batch_images.assign(train.images.begin() + first, train.images.begin() + last);
          batch_labels.assign(train.labels.begin() + first, train.labels.begin() + last);
          // train() over one batch is one step of its own loop, as fit() walks the data in one fixed
          // order and so cannot reshuffle it. n_threads = 1 states the intent only: this version
          // ignores it and spreads each layer over every core unless built with CNN_SINGLE_THREAD,
          // which the build sets.
          net.train<tdnn::cross_entropy_multiclass>(optimizer, batch_images, batch_labels, batch_images.size(), 1,
                                                    tdnn::nop, tdnn::nop, false, 1);
          // The softmax outputs of the batch are still on the last layer's output edge.
          const tdnn::tensor_t& probabilities = *output_layer.outputs()[0]->get_data();
          double batch_loss = 0.0;
          for (std::size_t i = 0; i < batch_labels.size(); ++i)
            batch_loss -= std::log(probabilities[i][batch_labels[i]]);
          return batch_loss / static_cast<double>(batch_labels.size());
        },
        [&] {
          // test() switches the network to its evaluation phase (dropout off) and predicts image by
          // image.
          const tdnn::result result = net.test(test.images, test.labels);
          return static_cast<double>(result.num_success) / static_cast<double>(result.num_total);
        });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "xgrad_peer_tiny_dnn_fashion_mnist: %s\n", error.what());
    return 1;
  }
}
