#pragma once
// Indexing as libtorch's torch::indexing, Python's x[...] spelled in C++:
//
//   using namespace xgrad::indexing;
//   x.index({Slice(), 0})                  // x[:, 0]        a view
//   x.index({"...", Slice(1, None, 2)})    // x[..., 1::2]   a view
//   x.index({None, 2})                     // x[None, 2]     a view with a new leading dim
//   x.index({mask})                        // x[mask]        a copy: the elements where mask is true
//   x.index({idx, Slice()})                // x[idx, :]      a copy: rows idx (an int64 tensor)
//   x.index_put_({Slice(), 3}, 7.0);       // x[:, 3] = 7
//   x.index_put_({mask}, 0.0);             // x[mask] = 0
//
// Integers, slices, None and "..." ("basic indexing") give a view of x; int64 index tensors and
// bool masks ("advanced indexing") a copy, as in PyTorch. Several index tensors are broadcast
// together and picked element by element (x.index({rows, cols})).
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

#include <xgrad/core/tensor.hpp>
#include <xgrad/core/utility.hpp>

namespace xgrad {
namespace indexing {

// Python's None: a missing Slice bound, or, as an index, a new dim of size 1.
constexpr std::nullopt_t None = std::nullopt;

struct EllipsisIndexType final {};
// Python's ...: as many full slices as the other indices leave dims.
inline constexpr EllipsisIndexType Ellipsis{};

// Bounds of a Slice that reach past any dimension, as libtorch's.
constexpr std::int64_t INDEX_MAX = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t INDEX_MIN = std::numeric_limits<std::int64_t>::min();

// Python's start:stop:step. A missing bound becomes libtorch's: start 0 and stop INDEX_MAX, or
// INDEX_MAX and INDEX_MIN for a negative step (which slicing refuses, as PyTorch does).
class Slice final {
 public:
  Slice(std::optional<std::int64_t> start = None, std::optional<std::int64_t> stop = None,
        std::optional<std::int64_t> step = None)
      : step_(step.value_or(1) < -INDEX_MAX ? -INDEX_MAX : step.value_or(1)),
        start_(start.value_or(step_ < 0 ? INDEX_MAX : 0)),
        stop_(stop.value_or(step_ < 0 ? INDEX_MIN : INDEX_MAX)) {}
  std::int64_t start() const { return start_; }
  std::int64_t stop() const { return stop_; }
  std::int64_t step() const { return step_; }

 private:
  std::int64_t step_, start_, stop_;
};

// "1:9223372036854775807:2", as libtorch prints a Slice.
std::ostream& operator<<(std::ostream& out, const Slice& slice);

// One entry of an index list: None, Ellipsis or "...", an integer, a bool, a Slice or a Tensor.
class TensorIndex final {
 public:
  enum class Kind { None, Ellipsis, Integer, Boolean, Slice, Tensor };

  TensorIndex(std::nullopt_t) : kind_(Kind::None) {}
  TensorIndex(EllipsisIndexType) : kind_(Kind::Ellipsis) {}
  // Only "..." is allowed (an Error otherwise).
  TensorIndex(const char* text);
  TensorIndex(std::int64_t integer) : kind_(Kind::Integer), integer_(integer) {}
  TensorIndex(int integer) : kind_(Kind::Integer), integer_(integer) {}
  template <class T, std::enable_if_t<std::is_same_v<T, bool>, int> = 0>
  TensorIndex(T boolean) : kind_(Kind::Boolean), boolean_(boolean) {}
  TensorIndex(Slice slice) : kind_(Kind::Slice), slice_(slice) {}
  TensorIndex(Tensor tensor) : kind_(Kind::Tensor), tensor_(std::move(tensor)) {}

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_ellipsis() const { return kind_ == Kind::Ellipsis; }
  bool is_integer() const { return kind_ == Kind::Integer; }
  bool is_boolean() const { return kind_ == Kind::Boolean; }
  bool is_slice() const { return kind_ == Kind::Slice; }
  bool is_tensor() const { return kind_ == Kind::Tensor; }
  std::int64_t integer() const { return integer_; }
  bool boolean() const { return boolean_; }
  const Slice& slice() const { return slice_; }
  const Tensor& tensor() const { return tensor_; }

 private:
  Kind kind_;
  std::int64_t integer_ = 0;
  bool boolean_ = false;
  Slice slice_;
  Tensor tensor_;
};

// None, ..., an integer, true/false, a Slice, or the tensor; a list as "(0:3:1, None)".
std::ostream& operator<<(std::ostream& out, const TensorIndex& index);
std::ostream& operator<<(std::ostream& out, const std::vector<TensorIndex>& indices);

}  // namespace indexing

// x.index(indices) and x.index_put_(indices, values) as free functions.
Tensor index(const Tensor& x, ArrayRef<indexing::TensorIndex> indices);
// Advanced indexing as ATen's index: one optional int64 or bool tensor per leading dim (an
// undefined one takes the whole dim).
Tensor index(const Tensor& x, const std::vector<std::optional<Tensor>>& indices);

}  // namespace xgrad
