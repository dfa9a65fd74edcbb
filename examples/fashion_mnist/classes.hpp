#pragma once
// The ten Fashion-MNIST classes, in label order.
#include <array>
#include <string>

namespace fashion {

inline const std::array<std::string, 10> kClassNames{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

}  // namespace fashion
