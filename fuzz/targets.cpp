#include "fuzz.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace xgrad::fuzz {

const std::vector<Target>& targets() {
  static const std::vector<Target> all = {{"idx_files", idx_files},
                                          {"npz_checkpoint", npz_checkpoint},
                                          {"token_windows", token_windows},
                                          {"engine_program", engine_program}};
  return all;
}

const Target& target_named(const std::string& name) {
  for (const Target& target : targets())
    if (name == target.name) return target;
  throw std::invalid_argument("no fuzz target named " + name);
}

ScratchDirectory::ScratchDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "xgrad-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("fuzz: cannot create a scratch directory");
  path_ = pattern;
}

ScratchDirectory::~ScratchDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string ScratchDirectory::write(const std::string& name, Bytes data, std::size_t size) const {
  const std::string file = path_ + "/" + name;
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) throw std::runtime_error("fuzz: cannot write the scratch file " + file);
  return file;
}

std::vector<std::uint8_t> Reader::take(std::size_t length) {
  const std::size_t count = std::min(length, size_ - position_);
  std::vector<std::uint8_t> bytes(data_ + position_, data_ + position_ + count);
  position_ += count;
  return bytes;
}

}  // namespace xgrad::fuzz
