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

}  // namespace xgrad::data::datasets::idx
