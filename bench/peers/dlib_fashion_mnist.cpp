// examples/fashion_mnist's MLP trained with dlib's DNN toolkit, a peer of bench/torch_fashion_mnist.cpp:
// 784-256-128-10 with ReLU and Dropout(0.2) after each hidden layer, softmax cross-entropy, Adam
// (lr 1e-3), batches of 64 shuffled each epoch, images normalised with mean 0.2860 and standard
// deviation 0.3530, one thread.
//
//   OPENBLAS_NUM_THREADS=1 xgrad_peer_dlib_fashion_mnist --epochs 5 [--data /usr/share/datasets/fashion-mnist]
//
// (The program sets OpenBLAS to one thread itself; the variable also keeps OpenBLAS from starting
// its idle worker thread.)
//
// Per epoch it prints the mean training loss, the seconds the training pass took (shuffling
// included, evaluation not) and the test accuracy; at the end the median epoch and the process's
// peak resident set size, worded as xgrad_torch_fashion_mnist words them.
#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <vector>

#include "fashion_mnist_idx.hpp"

// dlib's matrix products go to the BLAS it was built with, OpenBLAS on Debian, whose pthread build
// would otherwise use every core.
extern "C" void openblas_set_num_threads(int threads);

namespace {

using Input = dlib::input<dlib::matrix<float>>;

// dlib names layers from the output down: Linear(784, 256) ReLU Dropout Linear(256, 128) ReLU
// Dropout Linear(128, 10), read from the inside out.
using TrainNet = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::dropout<dlib::relu<dlib::fc<128, dlib::dropout<dlib::relu<dlib::fc<256, Input>>>>>>>>;

// dlib's dropout has no evaluation mode: it masks at every forward pass, and does not rescale what it
// keeps as libtorch's does (by 1 / (1 - rate)). dlib evaluates with this network instead, built from
// the trained one, in which each dropout is a multiply layer scaling by 1 - rate, the mask's
// expectation. The layer after a dropout thus sees 1 - rate times what it sees in libtorch, in
// training and evaluation alike.
using TestNet = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::multiply<dlib::relu<dlib::fc<128, dlib::multiply<dlib::relu<dlib::fc<256, Input>>>>>>>>;

using Split = peers::Split<dlib::matrix<float>, unsigned long>;

Split read_split(const std::string& folder, const char* images, const char* labels, std::size_t limit) {
  return peers::read_split<unsigned long>(folder, images, labels, limit, [](const float* pixels) {
    return dlib::matrix<float>(dlib::mat(pixels, 28, 28));
  });
}

double accuracy(TestNet& net, const Split& test) {
  const std::vector<unsigned long> predicted = net(test.images, 1000);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i) correct += predicted[i] == test.labels[i];
  return static_cast<double>(correct) / static_cast<double>(predicted.size());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"examples/fashion_mnist's MLP in dlib, beside xgrad_torch_fashion_mnist"};
  peers::Settings settings;
  auto& [data, epochs, batch_size, limit, seed] = settings;
  peers::add_options(app, settings);
  CLI11_PARSE(app, argc, argv);

  try {
    openblas_set_num_threads(1);
    // fc layers seed their initialisation, and dropout layers their masks, from std::rand().
    std::srand(seed);
    std::mt19937_64 shuffle_rng(seed);
    Split train = read_split(data, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", limit);
    const Split test = read_split(data, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", limit);

    // The two arguments reach the two dropout layers (dlib hands a constructor argument down to the
    // first layer, from the top, that can be built from it).
    TrainNet net(dlib::dropout_(0.2f), dlib::dropout_(0.2f));
    // No dnn_trainer: its train_one_step converts a batch on the caller's thread and queues it to the
    // trainer's own thread, so the next batch's conversion overlaps the step on a second core, and
    // around the step it keeps a loss history for its learning-rate schedule. This loop is the step
    // that trainer thread runs, alone and on this thread: forward, loss and backward in
    // compute_parameter_gradients, then one Adam update per layer. The learning rate goes in with
    // every update, so no schedule can shrink it. adam(0, 0.9, 0.999): no weight decay (dlib's
    // default adam has 5e-4).
    std::vector<dlib::adam> solvers(TrainNet::num_computational_layers, dlib::adam(0.0f, 0.9f, 0.999f));
    constexpr double kLearningRate = 1e-3;
    dlib::resizable_tensor batch;

    std::printf("dlib %d.%d, 1 thread(s), model mlp, batch %zu\n", DLIB_MAJOR_VERSION, DLIB_MINOR_VERSION, batch_size);
    peers::train_epochs(
        train, epochs, batch_size, shuffle_rng,
        [&](std::size_t first, std::size_t last) {
          net.to_tensor(train.images.begin() + first, train.images.begin() + last, batch);
          const double loss = net.compute_parameter_gradients(batch, train.labels.begin() + first);
          net.update_parameters(solvers, kLearningRate);
          return loss;
        },
        [&] {
          TestNet evaluated(net);
          return accuracy(evaluated, test);
        });
  } catch (const std::exception& error) {
    std::fprintf(stderr, "xgrad_peer_dlib_fashion_mnist: %s\n", error.what());
    return 1;
  }
}
