#pragma once
// Element types and shapes: the vocabulary every other header speaks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xgrad {

// float32 is the default; float64 exists for gradcheck and precise teaching; int64 holds class
// indices and never requires grad.
enum class Dtype { Float32, Float64, Int64 };
inline constexpr Dtype kFloat32 = Dtype::Float32;
inline constexpr Dtype kFloat64 = Dtype::Float64;
inline constexpr Dtype kInt64 = Dtype::Int64;

using Shape = std::vector<std::size_t>;

const char* dtype_name(Dtype dtype);
bool is_floating(Dtype dtype);
std::size_t numel_of(const Shape& shape);
// "[2, 3]", the form every error message uses.
std::string shape_str(const Shape& shape);

// The dtype that stores T; only float, double and std::int64_t have one.
template <class T>
constexpr Dtype dtype_of();
template <>
constexpr Dtype dtype_of<float>() { return kFloat32; }
template <>
constexpr Dtype dtype_of<double>() { return kFloat64; }
template <>
constexpr Dtype dtype_of<std::int64_t>() { return kInt64; }

}  // namespace xgrad
