#pragma once
// Library-internal: the bytes of an IDX file (the format of MNIST and Fashion-MNIST), plain or
// gzipped, with bounds-checked reads of its big-endian header fields.
//
// An IDX file is a 4-byte magic number 0x00 0x00 <type> <dims> (type 0x08: unsigned bytes), then one
// big-endian uint32 size per dim, then the elements row-major. Every read below checks the offset
// against the file's length first, so a truncated or hostile file gives an Error naming the file and
// the byte offset, never a read past the buffer.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xgrad::data::datasets::idx {

struct File {
  std::string path;  // the file actually read (with .gz when that is the one found)
  std::vector<std::uint8_t> bytes;  // decompressed content
};

// Reads root/name, or root/name.gz when only that one exists, refusing a file of more than a header
// and max_loaded_elements() bytes. `dataset` starts every Error; a missing file's Error names both
// paths tried and `install_hint`.
File read(const std::string& root, const std::string& name, const char* dataset, const char* install_hint);

// The big-endian uint32 at `offset`; `what` names the field in the Error of a file too short for it.
std::uint32_t read_u32(const File& file, std::size_t offset, const char* what, const char* dataset);

// Checks that the magic number says unsigned bytes in `dims` dimensions.
void check_magic(const File& file, std::size_t dims, const char* dataset);

// Checks that `count` elements of one byte start at `offset` and end inside the file (which read()
// keeps within max_loaded_elements(), core/load_limit.hpp).
void check_payload(const File& file, std::size_t offset, std::uint64_t count, const char* what, const char* dataset);

// A file read front to back as it inflates, for payloads too large to hold twice in memory (MNIST's
// training images: 47 MB of bytes that become 188 MB of floats). The header is read as with File;
// the payload then goes to the caller a chunk at a time. Before the caller allocates for the count a
// header claims, most_bytes() bounds what the file can hold, from its size on disk: deflate
// compresses by at most 1032:1 (zlib's documented limit), so a small file cannot make the caller
// allocate much more than 4 KB of floats per byte of it.
class Stream {
 public:
  // Opens root/name, or root/name.gz when only that one exists (Errors as read()).
  Stream(const std::string& root, const std::string& name, const char* dataset, const char* install_hint);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  const std::string& path() const { return path_; }
  // The first `size` bytes (fewer if the file is shorter) as a File, for read_u32 and check_magic;
  // the stream continues after them.
  File header(std::size_t size);
  // The most bytes the whole file can hold: its size, or 1032 times that inflated, and at most a
  // header and max_loaded_elements() (reading past that is an Error, as for read()).
  std::uint64_t most_bytes() const { return most_bytes_; }
  // Reads on to the end of the file and throws the Error of a payload of `count` bytes that does not
  // fit: the file is truncated (naming where it ends), or larger than the limit.
  [[noreturn]] void refuse(std::uint64_t count, const char* what);
  // Calls take(bytes, n) over the next `count` bytes in chunks; an Error naming `what` and the byte
  // offset where the file ends, if it ends first.
  template <class Take>
  void read(std::uint64_t count, const char* what, const Take& take);
  // Appends the rest of the file to `bytes`.
  void read_to_end(std::vector<std::uint8_t>& bytes);

 private:
  // Reads up to n bytes, 0 at the end; an Error on a zlib error or past limit().
  std::size_t read_some(std::uint8_t* to, std::size_t n);
  [[noreturn]] void truncated(std::uint64_t count, const char* what, std::uint64_t start) const;
  // A header and max_loaded_elements(): the most any IDX file may hold.
  static std::uint64_t limit();

  std::string path_;
  const char* dataset_;
  void* file_ = nullptr;  // gzFile
  std::uint64_t offset_ = 0, most_bytes_ = 0;
};

template <class Take>
void Stream::read(std::uint64_t count, const char* what, const Take& take) {
  constexpr std::size_t kChunk = std::size_t{1} << 18;
  std::vector<std::uint8_t> chunk(kChunk);
  const std::uint64_t start = offset_;
  for (std::uint64_t done = 0; done < count;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, count - done));
    const std::size_t got = read_some(chunk.data(), want);
    if (got == 0) truncated(count, what, start);
    take(chunk.data(), got);
    done += got;
  }
}

}  // namespace xgrad::data::datasets::idx
