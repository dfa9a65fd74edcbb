#include "corpus.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace char_gpt {

namespace fs = std::filesystem;

namespace {

bool is_text_file(const fs::directory_entry& entry) {
  if (!entry.is_regular_file() || entry.is_symlink()) return false;
  const std::string extension = entry.path().extension().string();
  return extension != ".dat" && extension != ".u8";
}

}  // namespace

Corpus read_corpus(const std::string& folder) {
  std::error_code error;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(folder, error))
    if (is_text_file(entry)) paths.push_back(entry.path());
  if (error || paths.empty()) {
    throw xgrad::Error("char_gpt: no text files in " + folder +
                       " (install Debian's fortunes package, or pass --data with a folder of text files)");
  }
  std::sort(paths.begin(), paths.end());
  std::string text;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    text.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const xgrad::Tensor tokens = encode(text);
  const std::int64_t split = tokens.numel() * 9 / 10;
  return {tokens.narrow(0, 0, split).contiguous(), tokens.narrow(0, split, tokens.numel() - split).contiguous(),
          paths.size()};
}

xgrad::Tensor encode(const std::string& text) {
  std::vector<std::int64_t> bytes(text.size());
  std::transform(text.begin(), text.end(), bytes.begin(),
                 [](char c) { return static_cast<std::int64_t>(static_cast<unsigned char>(c)); });
  return xgrad::tensor(bytes);
}

std::string decode(const xgrad::Tensor& tokens) {
  const xgrad::Tensor flat = tokens.contiguous().view({-1});
  const std::int64_t* values = flat.data_ptr<std::int64_t>();
  std::string text(static_cast<std::size_t>(flat.numel()), '\0');
  for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(values[i]);
  return text;
}

}  // namespace char_gpt
