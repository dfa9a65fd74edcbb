#pragma once
// The words to learn from: the lowercase words of a word list (Debian's wamerican puts one in
// /usr/share/dict/american-english), as rows of character indices.
//
// Characters are 1..26 for a..z and 0 for '.', which marks both the start and the end of a word.
// Every word becomes one row of length L = the longest word + 1:
//
//   x = [0, e, m, m, a, 0, 0, ...]     the characters seen so far (0 first)
//   y = [e, m, m, a, 0, -1, -1, ...]   the character to predict at each position; -1 past the end,
//                                      which cross_entropy's ignore_index leaves out of the loss
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace names {

inline constexpr std::int64_t kVocabulary = 27;
inline constexpr std::int64_t kIgnore = -1;

struct Split {
  xgrad::Tensor x, y;  // (words, L) int64
};

struct Words {
  Split train, test;
  std::int64_t length = 0;         // L
  std::vector<std::string> list;  // every word kept, in the shuffled order
};

// Reads the words made of a..z only (no capitals, apostrophes or accents), shuffles them with the
// current generator and keeps 10% (at most 2000) for the test split. Throws xgrad::Error when the
// file cannot be read or holds no such word.
Words read_words(const std::string& path);

// Index <-> character.
char to_char(std::int64_t index);

}  // namespace names
