#pragma once
// Library-internal: NumPy's .npz format, the one file xgrad::save writes (nn/serialize.hpp).
//
// An .npz file is a zip archive with one member <name>.npy per array; numpy.load(path)[name]
// returns it. Each .npy member (NumPy's format 1.0) is
//
//   "\x93NUMPY" 0x01 0x00  header length (uint16, little-endian)  header  raw data
//
// where the header is a Python dict literal padded with spaces and ending in '\n', so that the data
// starts at a multiple of 64 bytes:
//
//   {'descr': '<f4', 'fortran_order': False, 'shape': (64, 2), }
//
// The data are the elements in C (row-major) order, little-endian. Five dtypes are known, one for
// each of xgrad's: '<f4' float32, '<f8' float64, '<i8' int64, '|b1' bool, '|u1' uint8.
//
// The writer stores members uncompressed, as numpy.savez does; the reader also takes compressed
// (DEFLATE) members, as numpy.savez_compressed writes them, and headers of format 2.0 and 3.0
// (a 4-byte header length), which NumPy uses for very long headers.
#include <string>
#include <utility>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::npz {

// One array of an archive: its name (the member's name without ".npy") and its values.
using Entry = std::pair<std::string, Tensor>;

// The .npy bytes of a tensor: header and data.
std::string to_npy(const Tensor& tensor);

// What a .npy header says.
struct NpyHeader {
  Dtype dtype = kFloat32;
  Shape shape;
  std::size_t data_offset = 0;  // where the data start: after magic, version, length and dict
};

// A header is read in three pieces, each checked before the next is fetched:
// npy_preamble_length(first 8 bytes) checks magic and version and says how long the preamble is
// (10 or 12 bytes); npy_header_length(preamble) says how long the whole header is;
// parse_npy_header(header) reads the dict. Each throws Error saying what is wrong (the caller adds
// the file and entry names).
std::size_t npy_preamble_length(const std::string& first_bytes);
std::size_t npy_header_length(const std::string& preamble);
NpyHeader parse_npy_header(const std::string& header_bytes);

// Writes `entries` as the archive `path`, replacing a file already there only once the new one is
// complete (libzip writes a temporary file and renames it). Throws Error naming the operation
// `op`, the file and, when one is at fault, the entry.
void write(const std::string& op, const std::string& path, const std::vector<Entry>& entries);

// Reads every member of the archive `path`, in the archive's order. Each must be a .npy member
// whose header this reader accepts and whose size is exactly what the header says; the size is
// checked against the archive's record before any array is allocated. Throws Error naming `op`,
// the file and the entry.
std::vector<Entry> read(const std::string& op, const std::string& path);

}  // namespace xgrad::npz
