// Every committed input of every fuzz target (fuzz/corpus/<target>/: the seeds, and each input that
// once was a finding) run again through the target in this build. A target must return, having
// turned any bad input into an xgrad::Error; whatever else escapes fails the test with the file's name.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz.hpp"

namespace xgrad::fuzz {
// GoogleTest's name for a target in its messages.
inline void PrintTo(const Target& target, std::ostream* out) { *out << target.name; }
}  // namespace xgrad::fuzz

namespace {

namespace fs = std::filesystem;

std::vector<fs::path> corpus_of(const std::string& target) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(XGRAD_FUZZ_CORPUS_DIR) / target))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::uint8_t> bytes_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class FuzzCorpus : public ::testing::TestWithParam<xgrad::fuzz::Target> {};

TEST_P(FuzzCorpus, EveryInputEndsInAResultOrAnXgradError) {
  const xgrad::fuzz::Target& target = GetParam();
  const std::vector<fs::path> files = corpus_of(target.name);
  EXPECT_FALSE(files.empty()) << "no seeds in fuzz/corpus/" << target.name;
  for (const fs::path& file : files) {
    const std::vector<std::uint8_t> input = bytes_of(file);
    try {
      target.run(input.data(), input.size());
    } catch (const std::exception& finding) {
      ADD_FAILURE() << file.filename().string() << ": " << finding.what();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(xgrad::fuzz::targets()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
