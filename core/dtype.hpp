#pragma once
// Element types and shapes: the vocabulary every other header speaks.
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace xgrad {

// float32 is the default; float64 exists for gradcheck and precise teaching; int64 holds class
// indices. bool (comparison results, masks) and uint8 (raw image bytes) are storage dtypes: they
// convert with to(), sum to int64 and index, but arithmetic rejects them. Only the floating dtypes
// can require grad.
enum class Dtype { Float32, Float64, Int64, Bool, UInt8 };
inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat = Dtype::Float32;
inline constexpr Dtype kFloat64 = Dtype::Float64;
inline constexpr Dtype kDouble = Dtype::Float64;
inline constexpr Dtype kInt64 = Dtype::Int64;
inline constexpr Dtype kLong = Dtype::Int64;
inline constexpr Dtype kBool = Dtype::Bool;
inline constexpr Dtype kUInt8 = Dtype::UInt8;
inline constexpr Dtype kByte = Dtype::UInt8;

// libtorch's name for the same enumeration (c10::ScalarType); it prints as libtorch's does: Float,
// Double, Long, Bool, Byte.
using ScalarType = Dtype;
std::ostream& operator<<(std::ostream& out, Dtype dtype);

// What Tensor::dtype() returns, as libtorch's caffe2::TypeMeta: a Dtype that converts to and from
// Dtype freely but prints as the element type's C++ name ("float", "double", "long int"), which is
// what `std::cout << t.dtype()` shows in libtorch.
class TypeMeta {
 public:
  constexpr TypeMeta(Dtype dtype = Dtype::Float32) : dtype_(dtype) {}
  constexpr operator Dtype() const { return dtype_; }
  constexpr Dtype toScalarType() const { return dtype_; }
  const char* name() const;
  std::size_t itemsize() const;

 private:
  Dtype dtype_;
};
std::ostream& operator<<(std::ostream& out, TypeMeta meta);
inline constexpr Dtype typeMetaToScalarType(TypeMeta meta) { return meta; }
inline constexpr TypeMeta scalarTypeToTypeMeta(Dtype dtype) { return dtype; }
// Bytes per element.
std::size_t elementSize(Dtype dtype);
bool is_floating(Dtype dtype);
// libtorch's name for is_floating.
inline bool isFloatingType(Dtype dtype) { return is_floating(dtype); }
inline bool isIntegralType(Dtype dtype, bool include_bool) {
  return dtype == Dtype::Int64 || dtype == Dtype::UInt8 || (include_bool && dtype == Dtype::Bool);
}

// The dtype factories use when their options name none, and that tensor(...) gives floating values:
// float32 unless changed. Only floating dtypes can be the default (an Error otherwise), as in PyTorch.
Dtype get_default_dtype();
void set_default_dtype(TypeMeta dtype);

// Sizes are int64, as libtorch's IntArrayRef: one -1 in a view means "infer this dim".
using Shape = std::vector<std::int64_t>;

const char* dtype_name(Dtype dtype);
bool is_floating(Dtype dtype);
std::int64_t numel_of(const Shape& shape);
// "[2, 3]", the form every error message uses.
std::string shape_str(const Shape& shape);

// The dtype that stores T.
template <class T>
constexpr Dtype dtype_of();
template <>
constexpr Dtype dtype_of<float>() { return kFloat32; }
template <>
constexpr Dtype dtype_of<double>() { return kFloat64; }
template <>
constexpr Dtype dtype_of<std::int64_t>() { return kInt64; }
template <>
constexpr Dtype dtype_of<bool>() { return kBool; }
template <>
constexpr Dtype dtype_of<std::uint8_t>() { return kUInt8; }

}  // namespace xgrad
