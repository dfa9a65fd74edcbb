#include "model.hpp"

namespace fashion {

namespace nn = xgrad::nn;

namespace {

nn::Sequential make_mlp() {
  return nn::Sequential(nn::Flatten(), nn::Linear(784, 256), nn::ReLU(), nn::Dropout(0.2), nn::Linear(256, 128),
                        nn::ReLU(), nn::Dropout(0.2), nn::Linear(128, 10));
}

// 28 -> conv 5 -> 24 -> pool -> 12 -> conv 5 -> 8 -> pool -> 4: 32 * 4 * 4 = 512 features.
nn::Sequential make_cnn() {
  return nn::Sequential(nn::Conv2d(1, 16, 5), nn::ReLU(), nn::MaxPool2d(2), nn::Conv2d(16, 32, 5), nn::ReLU(),
                        nn::MaxPool2d(2), nn::Flatten(), nn::Linear(512, 10));
}

}  // namespace

nn::Sequential make_model(const std::string& name) { return name == "cnn" ? make_cnn() : make_mlp(); }

}  // namespace fashion
