#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <iomanip>
#include <memory>
#include <sstream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/load_limit.hpp>
#include <xgrad/data/datasets/idx_impl.hpp>

namespace xgrad::data::datasets::idx {

namespace {

bool exists(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  return file != nullptr;
}

std::string hex(std::uint32_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(8) << std::setfill('0') << value;
  return out.str();
}

// The longest IDX header: magic and three dimensions.
constexpr std::uint64_t kLargestHeader = 16;

// A path that exists as given, or with .gz: the first of the two, or an Error naming both.
std::string existing_path(const std::string& root, const std::string& name, const char* dataset,
                          const char* install_hint) {
  const std::string plain = root + "/" + name;
  const std::string gzipped = plain + ".gz";
  if (exists(plain)) return plain;
  if (exists(gzipped)) return gzipped;
  throw Error(concat(dataset, ": missing file ", plain, " (nor ", gzipped, "); ", install_hint));
}

// Deflate's largest compression ratio (zlib's FAQ and technical notes: 1032:1).
constexpr std::uint64_t kMostInflation = 1032;

}  // namespace

Stream::Stream(const std::string& root, const std::string& name, const char* dataset, const char* install_hint)
    : path_(existing_path(root, name, dataset, install_hint)), dataset_(dataset) {
  std::error_code failed;
  const std::uint64_t size = std::filesystem::file_size(path_, failed);
  gzFile file = gzopen(path_.c_str(), "rb");
  if (failed || file == nullptr) {
    if (file != nullptr) gzclose(file);
    throw Error(concat(dataset, ": cannot open ", path_));
  }
  file_ = file;
  // zlib's default 8 KiB input buffer makes inflating the 26 MB of MNIST's training images slower.
  gzbuffer(file, 1u << 18);
  // gzread passes a file that is not gzipped through unchanged; gzdirect reads the first bytes to
  // tell which this one is.
  const std::uint64_t inflated = size > UINT64_MAX / kMostInflation ? UINT64_MAX : size * kMostInflation;
  most_bytes_ = std::min(gzdirect(file) ? size : inflated, limit());
}

Stream::~Stream() { gzclose(static_cast<gzFile>(file_)); }

std::size_t Stream::read_some(std::uint8_t* to, std::size_t n) {
  gzFile file = static_cast<gzFile>(file_);
  const int got = gzread(file, to, static_cast<unsigned>(n));
  int status = Z_OK;
  const char* message = gzerror(file, &status);
  if (got < 0 || (status != Z_OK && status != Z_STREAM_END)) {
    throw Error(concat(dataset_, ": ", path_, ": cannot decompress past byte offset ", offset_, " (zlib: ", message,
                       ")"));
  }
  offset_ += static_cast<std::uint64_t>(got);
  // Refused as it grows: a small .gz cannot make a reader hold more than the limit.
  if (offset_ > limit()) {
    throw Error(concat(dataset_, ": ", path_, " holds more than ", limit(),
                       " bytes, more than a header and the limit of ", max_loaded_elements(),
                       " elements (xgrad::set_max_loaded_elements)"));
  }
  return static_cast<std::size_t>(got);
}

std::uint64_t Stream::limit() { return static_cast<std::uint64_t>(max_loaded_elements()) + kLargestHeader; }

void Stream::read_to_end(std::vector<std::uint8_t>& bytes) {
  constexpr std::size_t kChunk = std::size_t{1} << 20;
  for (;;) {
    const std::size_t used = bytes.size();
    bytes.resize(used + kChunk);
    const std::size_t got = read_some(bytes.data() + used, kChunk);
    bytes.resize(used + got);
    if (got == 0) return;
  }
}

File Stream::header(std::size_t size) {
  File file{path_, std::vector<std::uint8_t>(size)};
  std::size_t have = 0;
  while (have < size) {
    const std::size_t got = read_some(file.bytes.data() + have, size - have);
    if (got == 0) break;
    have += got;
  }
  file.bytes.resize(have);
  return file;
}

void Stream::truncated(std::uint64_t count, const char* what, std::uint64_t start) const {
  throw Error(concat(dataset_, ": ", path_, " is truncated: ", count, " bytes of ", what,
                     " should start at byte offset ", start, " but the file ends at byte offset ", offset_));
}

void Stream::refuse(std::uint64_t count, const char* what) {
  const std::uint64_t start = offset_;
  std::vector<std::uint8_t> chunk(std::size_t{1} << 18);
  while (read_some(chunk.data(), chunk.size()) > 0) {
  }
  if (offset_ - start < count) truncated(count, what, start);
  // The file held them after all, which deflate's bound says it cannot: refused all the same.
  throw Error(concat(dataset_, ": ", path_, ": ", count, " bytes of ", what, " starting at byte offset ", start,
                     " are more than its size on disk allows (", most_bytes_, " bytes at most)"));
}

File read(const std::string& root, const std::string& name, const char* dataset, const char* install_hint) {
  Stream stream(root, name, dataset, install_hint);
  File file{stream.path(), {}};
  stream.read_to_end(file.bytes);
  return file;
}

std::uint32_t read_u32(const File& file, std::size_t offset, const char* what, const char* dataset) {
  if (file.bytes.size() < offset + 4) {
    throw Error(concat(dataset, ": ", file.path, " is truncated: the ", what, " at byte offset ", offset,
                       " needs 4 bytes, the file has ", file.bytes.size()));
  }
  const std::uint8_t* p = file.bytes.data() + offset;
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

void check_magic(const File& file, std::size_t dims, const char* dataset) {
  const std::uint32_t expected = 0x00000800u | static_cast<std::uint32_t>(dims);
  const std::uint32_t magic = read_u32(file, 0, "magic number", dataset);
  if (magic != expected) {
    throw Error(concat(dataset, ": ", file.path, ": wrong magic number ", hex(magic), " at byte offset 0, expected ",
                       hex(expected), " (an IDX file of unsigned bytes in ", dims, " dimensions)"));
  }
}

void check_payload(const File& file, std::size_t offset, std::uint64_t count, const char* what, const char* dataset) {
  const std::uint64_t available = file.bytes.size() > offset ? file.bytes.size() - offset : 0;
  if (available < count) {
    throw Error(concat(dataset, ": ", file.path, " is truncated: ", count, " bytes of ", what,
                       " should start at byte offset ", offset, " but the file ends at byte offset ",
                       file.bytes.size()));
  }
}

}  // namespace xgrad::data::datasets::idx
