#pragma once
// Test-set evaluation: accuracy, the confusion matrix, and the first misclassified images.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "pictures.hpp"

namespace fashion {

struct Evaluation {
  std::int64_t correct = 0, total = 0;
  // confusion[truth][predicted]
  std::array<std::array<std::int64_t, 10>, 10> confusion{};
  std::vector<Mistake> mistakes;  // at most the number asked for, in test-set order

  double accuracy() const { return total == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(total); }
};

// How the images were normalised, (x - mean) / std, undone for the pictures of mistakes.
struct Normalisation {
  double mean, std;
};

// Adds one batch: logits (N, 10), targets (N), and the normalised images (N, 1, 28, 28). Only the
// mistakes kept have their pixels put back as they were: the whole batch is not copied for them.
void add_batch(Evaluation& evaluation, const xgrad::Tensor& logits, const xgrad::Tensor& targets,
               const xgrad::Tensor& images, Normalisation normalisation, std::size_t keep_mistakes);

// The matrix with a row per true class and a column per predicted class (full class names; a long
// one heads its column on two lines), then each class's recall.
std::string confusion_table(const Evaluation& evaluation);

}  // namespace fashion
