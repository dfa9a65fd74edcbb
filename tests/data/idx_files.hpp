#pragma once
// Small IDX files for the MNIST tests, written plain or gzipped into a temporary folder.
#include <cstdint>
#include <string>
#include <vector>

namespace xgrad::testing {

// A fresh folder under the system's temporary directory, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The pixel the crafted image files hold at position i of the payload.
std::uint8_t crafted_pixel(std::size_t i);

// An IDX image file: magic, count, rows, cols, then count * rows * cols crafted pixels.
std::vector<std::uint8_t> idx_images(std::uint32_t count, std::uint32_t rows = 28, std::uint32_t cols = 28,
                                     std::uint32_t magic = 0x00000803);
// An IDX label file: magic, count (labels.size() unless given), then the labels.
std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels, std::uint32_t magic = 0x00000801,
                                     std::int64_t count = -1);

void write_plain(const std::string& path, const std::vector<std::uint8_t>& bytes);
void write_gzipped(const std::string& path, const std::vector<std::uint8_t>& bytes);

// Writes the four files of a set into dir (prefix "train" or "t10k"), gzipped or not.
void write_set(const std::string& dir, const std::string& prefix, const std::vector<std::uint8_t>& images,
               const std::vector<std::uint8_t>& labels, bool gzipped);

}  // namespace xgrad::testing
