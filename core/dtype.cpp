#include <xgrad/core/dtype.hpp>

#include <atomic>
#include <functional>
#include <numeric>
#include <ostream>

#include <xgrad/core/error.hpp>

namespace xgrad {

const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32: return "float32";
    case Dtype::Float64: return "float64";
    case Dtype::Int64: return "int64";
    case Dtype::Bool: return "bool";
    case Dtype::UInt8: return "uint8";
  }
  return "unknown";
}

namespace {
std::atomic<Dtype> default_dtype{kFloat32};
}  // namespace

std::ostream& operator<<(std::ostream& out, Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32: return out << "Float";
    case Dtype::Float64: return out << "Double";
    case Dtype::Int64: return out << "Long";
    case Dtype::Bool: return out << "Bool";
    case Dtype::UInt8: return out << "Byte";
  }
  return out << "Undefined";
}

const char* TypeMeta::name() const {
  switch (dtype_) {
    case Dtype::Float32: return "float";
    case Dtype::Float64: return "double";
    case Dtype::Int64: return "long int";
    case Dtype::Bool: return "bool";
    case Dtype::UInt8: return "unsigned char";
  }
  return "nullptr (uninitialized)";
}

std::size_t TypeMeta::itemsize() const { return elementSize(dtype_); }

std::ostream& operator<<(std::ostream& out, TypeMeta meta) { return out << meta.name(); }

std::size_t elementSize(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32: return sizeof(float);
    case Dtype::Float64: return sizeof(double);
    case Dtype::Int64: return sizeof(std::int64_t);
    case Dtype::Bool: return sizeof(bool);
    case Dtype::UInt8: return sizeof(std::uint8_t);
  }
  return 0;
}

Dtype get_default_dtype() { return default_dtype.load(std::memory_order_relaxed); }

void set_default_dtype(TypeMeta dtype) {
  check(is_floating(dtype), "set_default_dtype: only floating-point types are supported as the default type, got ",
        dtype_name(dtype));
  default_dtype.store(dtype, std::memory_order_relaxed);
}

bool is_floating(Dtype dtype) { return dtype == kFloat32 || dtype == kFloat64; }

std::int64_t numel_of(const Shape& shape) {
  return std::accumulate(shape.begin(), shape.end(), std::int64_t{1}, std::multiplies<>());
}

std::string shape_str(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

}  // namespace xgrad

#include <xgrad/core/reduction.hpp>

namespace xgrad {

const char* reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::None: return "none";
    case Reduction::Mean: return "mean";
    case Reduction::Sum: return "sum";
    case Reduction::BatchMean: return "batchmean";
  }
  return "unknown";
}

}  // namespace xgrad
