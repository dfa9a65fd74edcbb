#include "words.hpp"

#include <algorithm>
#include <fstream>

namespace names {

namespace {

bool is_plain_lowercase(const std::string& word) {
  return !word.empty() && std::all_of(word.begin(), word.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

Split encode(const std::vector<std::string>& words, std::int64_t length) {
  const auto count = static_cast<std::int64_t>(words.size());
  std::vector<std::int64_t> x(static_cast<std::size_t>(count * length), 0);
  std::vector<std::int64_t> y(static_cast<std::size_t>(count * length), kIgnore);
  for (std::int64_t w = 0; w < count; ++w) {
    const std::string& word = words[static_cast<std::size_t>(w)];
    std::int64_t* row_x = &x[static_cast<std::size_t>(w * length)];
    std::int64_t* row_y = &y[static_cast<std::size_t>(w * length)];
    for (std::size_t i = 0; i < word.size(); ++i) {
      row_x[i + 1] = word[i] - 'a' + 1;
      row_y[i] = word[i] - 'a' + 1;
    }
    row_y[word.size()] = 0;  // the end
  }
  return {xgrad::tensor(x).view({count, length}), xgrad::tensor(y).view({count, length})};
}

}  // namespace

Words read_words(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw xgrad::Error("names: cannot read " + path);
  std::vector<std::string> words;
  std::size_t longest = 0;
  for (std::string word; std::getline(in, word);) {
    if (!is_plain_lowercase(word)) continue;
    longest = std::max(longest, word.size());
    words.push_back(std::move(word));
  }
  if (words.empty()) throw xgrad::Error("names: no lowercase words in " + path);
  const xgrad::Tensor order = xgrad::randperm(static_cast<std::int64_t>(words.size()));
  std::vector<std::string> shuffled;
  shuffled.reserve(words.size());
  const std::int64_t* picked = order.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < order.numel(); ++i) shuffled.push_back(words[static_cast<std::size_t>(picked[i])]);
  const std::size_t test_count = std::min<std::size_t>(2000, shuffled.size() / 10);
  const auto length = static_cast<std::int64_t>(longest) + 1;
  const std::vector<std::string> test(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(test_count));
  const std::vector<std::string> train(shuffled.begin() + static_cast<std::ptrdiff_t>(test_count), shuffled.end());
  return {encode(train, length), encode(test, length), length, std::move(shuffled)};
}

char to_char(std::int64_t index) { return index == 0 ? '.' : static_cast<char>('a' + index - 1); }

}  // namespace names
