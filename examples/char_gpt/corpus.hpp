#pragma once
// The training text: every fortune file of a folder (Debian's fortunes package puts about 2.5 MB of
// English in /usr/share/games/fortunes), read as bytes, so that the vocabulary is the 256 byte
// values and no tokenizer is needed.
#include <string>

#include <xgrad/xgrad.hpp>

namespace char_gpt {

struct Corpus {
  xgrad::Tensor train, validation;  // 1-dim int64 byte values: the first 90% and the last 10%
  std::size_t files = 0;
};

// Reads the folder's text files in name order: every regular file except fortune's index files
// (*.dat) and the *.u8 links to the same texts. Throws xgrad::Error when the folder holds none.
Corpus read_corpus(const std::string& folder);

// Bytes as tokens and back.
xgrad::Tensor encode(const std::string& text);
std::string decode(const xgrad::Tensor& tokens);

}  // namespace char_gpt
