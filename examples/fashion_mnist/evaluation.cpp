#include "evaluation.hpp"

#include <cstdio>

#include "classes.hpp"

namespace fashion {

void add_batch(Evaluation& evaluation, const xgrad::Tensor& logits, const xgrad::Tensor& targets,
               const xgrad::Tensor& raw_images, std::size_t keep_mistakes) {
  const std::vector<std::int64_t> predicted = logits.argmax(1).to_vector<std::int64_t>();
  const std::vector<std::int64_t> truth = targets.to_vector<std::int64_t>();
  const float* pixels = raw_images.data<float>();
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ++evaluation.total;
    ++evaluation.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(predicted[i])];
    if (predicted[i] == truth[i]) {
      ++evaluation.correct;
    } else if (evaluation.mistakes.size() < keep_mistakes) {
      const float* image = pixels + i * 28 * 28;
      evaluation.mistakes.push_back({std::vector<float>(image, image + 28 * 28), truth[i], predicted[i]});
    }
  }
}

std::string confusion_table(const Evaluation& evaluation) {
  std::string out = "confusion matrix (rows: true class, columns: predicted)\n";
  char cell[64];
  out += std::string(13, ' ');
  for (std::size_t c = 0; c < 10; ++c) {
    std::snprintf(cell, sizeof cell, " %6.6s", kClassNames[c].c_str());
    out += cell;
  }
  out += "  recall\n";
  for (std::size_t t = 0; t < 10; ++t) {
    std::snprintf(cell, sizeof cell, "%-12s ", kClassNames[t].c_str());
    out += cell;
    std::int64_t row_total = 0;
    for (std::size_t p = 0; p < 10; ++p) {
      std::snprintf(cell, sizeof cell, " %6lld", static_cast<long long>(evaluation.confusion[t][p]));
      out += cell;
      row_total += evaluation.confusion[t][p];
    }
    const double recall = row_total == 0 ? 0.0 : static_cast<double>(evaluation.confusion[t][t]) / row_total;
    std::snprintf(cell, sizeof cell, "  %.3f\n", recall);
    out += cell;
  }
  return out;
}

}  // namespace fashion
