#pragma once
// The fuzz targets. Each takes one input of arbitrary bytes and feeds it to one part of xgrad that
// reads what comes from elsewhere (a file, a program of ops). For bad input xgrad's promise is an
// xgrad::Error: a target catches those and returns. Anything else that escapes is a finding:
//   - an exception of another type (std::bad_alloc from a size taken on trust, std::out_of_range),
//   - a Finding, thrown by a target whose own check failed (a gradient that disagrees with finite
//     differences, a failed load that changed the model),
//   - a crash, a leak or undefined behaviour, which the sanitizers report.
//
// The same functions run under libFuzzer (libfuzzer_main.cpp, -DXGRAD_BUILD_FUZZERS=ON with clang)
// and in the test suite (tests/fuzz), which replays every committed seed and every input that once
// was a finding (fuzz/corpus/<target>/), so each finding stays a regression test in every build.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace xgrad::fuzz {

struct Finding : std::logic_error {
  using std::logic_error::logic_error;
};

using Bytes = const std::uint8_t*;

// IDX images and labels (MNIST's format), plain and gzipped, through data::datasets::MNIST.
void idx_files(Bytes data, std::size_t size);
// An .npz checkpoint loaded into a module and into each optimiser (with a scheduler), through
// xgrad::load.
void npz_checkpoint(Bytes data, std::size_t size);
// Token windows over a token tensor, through TokenWindows and a data loader.
void token_windows(Bytes data, std::size_t size);
// A random program of ops on float64 tensors, decoded from the bytes; where it runs, gradcheck.
void engine_program(Bytes data, std::size_t size);

struct Target {
  const char* name;  // also the folder of its corpus: fuzz/corpus/<name>/
  void (*run)(Bytes data, std::size_t size);
};

// Every target, for the replay test and for libFuzzer's entry.
const std::vector<Target>& targets();
// The target called `name`; throws std::invalid_argument for an unknown one.
const Target& target_named(const std::string& name);

// A directory for a target to write its input into, for a reader that takes a path; removed with
// everything in it when the object goes. mkdtemp makes its name unique, so targets may run side by
// side.
class ScratchDirectory {
 public:
  ScratchDirectory();
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;
  ~ScratchDirectory();
  // Writes `size` bytes to the file `name` in the directory and returns its path.
  std::string write(const std::string& name, Bytes data, std::size_t size) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Reads the input front to back: fixed-size fields first, the rest as one blob. Past the end every
// field reads as zero, so any input decodes to something.
class Reader {
 public:
  Reader(Bytes data, std::size_t size) : data_(data), size_(size) {}
  std::uint8_t byte() { return position_ < size_ ? data_[position_++] : 0; }
  std::uint16_t u16() { return static_cast<std::uint16_t>(byte() | byte() << 8); }
  // The next `length` bytes, or as many as are left.
  std::vector<std::uint8_t> take(std::size_t length);
  std::vector<std::uint8_t> rest() { return take(size_ - position_); }
  bool empty() const { return position_ >= size_; }

 private:
  Bytes data_;
  std::size_t size_;
  std::size_t position_ = 0;
};

}  // namespace xgrad::fuzz
