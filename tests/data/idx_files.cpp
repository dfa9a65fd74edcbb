#include "idx_files.hpp"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace xgrad::testing {

namespace {
void append_u32(std::vector<std::uint8_t>& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(value >> shift));
}
}  // namespace

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "xgrad-data-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::uint8_t crafted_pixel(std::size_t i) { return static_cast<std::uint8_t>((i * 37 + 11) % 256); }

std::vector<std::uint8_t> idx_images(std::uint32_t count, std::uint32_t rows, std::uint32_t cols, std::uint32_t magic) {
  std::vector<std::uint8_t> bytes;
  append_u32(bytes, magic);
  append_u32(bytes, count);
  append_u32(bytes, rows);
  append_u32(bytes, cols);
  const std::size_t pixels = std::size_t{count} * rows * cols;
  for (std::size_t i = 0; i < pixels; ++i) bytes.push_back(crafted_pixel(i));
  return bytes;
}

std::vector<std::uint8_t> idx_labels(const std::vector<std::uint8_t>& labels, std::uint32_t magic, std::int64_t count) {
  std::vector<std::uint8_t> bytes;
  append_u32(bytes, magic);
  append_u32(bytes, count < 0 ? static_cast<std::uint32_t>(labels.size()) : static_cast<std::uint32_t>(count));
  bytes.insert(bytes.end(), labels.begin(), labels.end());
  return bytes;
}

void write_plain(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

void write_gzipped(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  if (!file) throw std::runtime_error("cannot write " + path);
  const int written = bytes.empty() ? 0 : gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  if (gzclose(file) != Z_OK || written != static_cast<int>(bytes.size())) throw std::runtime_error("gzwrite failed");
}

void write_set(const std::string& dir, const std::string& prefix, const std::vector<std::uint8_t>& images,
               const std::vector<std::uint8_t>& labels, bool gzipped) {
  const std::string images_path = dir + "/" + prefix + "-images-idx3-ubyte";
  const std::string labels_path = dir + "/" + prefix + "-labels-idx1-ubyte";
  if (gzipped) {
    write_gzipped(images_path + ".gz", images);
    write_gzipped(labels_path + ".gz", labels);
  } else {
    write_plain(images_path, images);
    write_plain(labels_path, labels);
  }
}

}  // namespace xgrad::testing
