#pragma once
// Element types and shapes: the vocabulary every other header speaks.
#include <cstddef>
#include <cstdint>
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
