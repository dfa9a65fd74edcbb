#include "evaluation.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "classes.hpp"

namespace fashion {

void add_batch(Evaluation& evaluation, const xgrad::Tensor& logits, const xgrad::Tensor& targets,
               const xgrad::Tensor& images, Normalisation normalisation, std::size_t keep_mistakes) {
  const std::vector<std::int64_t> predicted = logits.argmax(1).to_vector<std::int64_t>();
  const std::vector<std::int64_t> truth = targets.to_vector<std::int64_t>();
  const float* pixels = images.data<float>();
  for (std::size_t i = 0; i < truth.size(); ++i) {
    ++evaluation.total;
    ++evaluation.confusion[static_cast<std::size_t>(truth[i])][static_cast<std::size_t>(predicted[i])];
    if (predicted[i] == truth[i]) {
      ++evaluation.correct;
    } else if (evaluation.mistakes.size() < keep_mistakes) {
      const float* image = pixels + i * 28 * 28;
      std::vector<float> raw(28 * 28);
      for (std::size_t p = 0; p < raw.size(); ++p)
        raw[p] = static_cast<float>(image[p] * normalisation.std + normalisation.mean);
      evaluation.mistakes.push_back({std::move(raw), truth[i], predicted[i]});
    }
  }
}

namespace {

// A class name as a column heading of at most two lines, split after its last space or slash when it
// is longer than `width` ("Ankle boot" -> "Ankle" over "boot", "T-shirt/top" -> "T-shirt/" over
// "top"), so the columns stay narrow without cutting a name short.
std::pair<std::string, std::string> heading_lines(const std::string& name, std::size_t width) {
  if (name.size() <= width) return {"", name};
  const std::size_t cut = name.find_last_of(" /", width);
  if (cut == std::string::npos) return {"", name};
  const bool space = name[cut] == ' ';  // a space is dropped, a slash stays on the first line
  return {name.substr(0, space ? cut : cut + 1), name.substr(cut + 1)};
}

}  // namespace

std::string confusion_table(const Evaluation& evaluation) {
  constexpr std::size_t kNarrow = 8;
  std::array<std::pair<std::string, std::string>, 10> headings;
  std::size_t width = 6;  // room for a count of up to 999999
  std::size_t row_label = 0;
  for (std::size_t c = 0; c < 10; ++c) {
    headings[c] = heading_lines(kClassNames[c], kNarrow);
    width = std::max({width, headings[c].first.size(), headings[c].second.size()});
    row_label = std::max(row_label, kClassNames[c].size());
  }
  const auto padded = [](const std::string& text, std::size_t to, bool right) {
    const std::string pad(to > text.size() ? to - text.size() : 0, ' ');
    return right ? pad + text : text + pad;
  };
  std::string out = "confusion matrix (rows: true class, columns: predicted)\n";
  for (int line = 0; line < 2; ++line) {
    out += std::string(row_label, ' ');
    for (std::size_t c = 0; c < 10; ++c)
      out += "  " + padded(line == 0 ? headings[c].first : headings[c].second, width, true);
    out += line == 0 ? "\n" : "  recall\n";
  }
  char cell[64];
  for (std::size_t t = 0; t < 10; ++t) {
    out += padded(kClassNames[t], row_label, false);
    std::int64_t row_total = 0;
    for (std::size_t p = 0; p < 10; ++p) {
      out += "  " + padded(std::to_string(evaluation.confusion[t][p]), width, true);
      row_total += evaluation.confusion[t][p];
    }
    const double recall = row_total == 0 ? 0.0 : static_cast<double>(evaluation.confusion[t][t]) / row_total;
    std::snprintf(cell, sizeof cell, "  %.3f\n", recall);
    out += cell;
  }
  return out;
}

}  // namespace fashion
