#pragma once
// Library-internal: the bytes of an IDX file (the format of MNIST and Fashion-MNIST), plain or
// gzipped, with bounds-checked reads of its big-endian header fields.
//
// An IDX file is a 4-byte magic number 0x00 0x00 <type> <dims> (type 0x08: unsigned bytes), then one
// big-endian uint32 size per dim, then the elements row-major. Every read below checks the offset
// against the file's length first, so a truncated or hostile file gives an Error naming the file and
// the byte offset, never a read past the buffer.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

struct gzFile_s;

namespace xgrad::data::datasets::idx {

struct File {
  std::string path;  // the file actually read (with .gz when that is the one found)
  std::vector<std::uint8_t> bytes;  // decompressed content
};

// Reads root/name, or root/name.gz when only that one exists, refusing a file of more than a header
// and max_loaded_elements() bytes. `dataset` starts every Error; a missing file's Error names both
// paths tried and `install_hint`.
File read(const std::string& root, const std::string& name, const char* dataset, const char* install_hint);

// The same file read from the front, for a payload converted as it is inflated: MNIST's training
// images as float32 (188 MB) then never sit beside the whole inflated file (47 MB).
class Reader {
 public:
  Reader(const std::string& root, const std::string& name, const char* dataset, const char* install_hint);
  const std::string& path() const { return path_; }
  // Bytes read so far: the byte offset of the next one.
  std::uint64_t offset() const { return offset_; }
  // Up to `count` bytes into `out`, fewer only at the end of the file; returns how many.
  std::size_t read(std::uint8_t* out, std::size_t count);
  // Appends the rest of the file to `file.bytes`, refusing more than a header and
  // max_loaded_elements() bytes in all, as read() does.
  void read_rest(File& file);

 private:
  std::string path_;
  const char* dataset_;
  std::unique_ptr<gzFile_s, int (*)(gzFile_s*)> file_;
  std::uint64_t offset_ = 0;
};

// The big-endian uint32 at `offset`; `what` names the field in the Error of a file too short for it.
std::uint32_t read_u32(const File& file, std::size_t offset, const char* what, const char* dataset);

// Checks that the magic number says unsigned bytes in `dims` dimensions.
void check_magic(const File& file, std::size_t dims, const char* dataset);

// Checks that `count` elements of one byte start at `offset` and end inside the file (which read()
// keeps within max_loaded_elements(), core/load_limit.hpp).
void check_payload(const File& file, std::size_t offset, std::uint64_t count, const char* what, const char* dataset);
// The Error check_payload throws, for a file that ends at byte offset `file_size`.
[[noreturn]] void throw_truncated_payload(const std::string& path, std::size_t offset, std::uint64_t count,
                                          const char* what, const char* dataset, std::uint64_t file_size);

}  // namespace xgrad::data::datasets::idx
