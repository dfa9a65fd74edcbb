#pragma once
// The two models of the example, as libtorch Sequentials:
//   mlp: Flatten, Linear(784, 256), ReLU, Dropout(0.2), Linear(256, 128), ReLU, Dropout(0.2), Linear(128, 10)
//   cnn: Conv2d(1, 16, 5), ReLU, MaxPool2d(2), Conv2d(16, 32, 5), ReLU, MaxPool2d(2), Flatten, Linear(512, 10)
// Both take (N, 1, 28, 28) images and give (N, 10) logits.
#include <string>

#include <xgrad/xgrad.hpp>

namespace fashion {

// name is "mlp" or "cnn".
xgrad::nn::Sequential make_model(const std::string& name);

}  // namespace fashion
