#pragma once
// TensorOptions and Device, as libtorch's: every factory takes options last,
//   xgrad::randn({3, 4}, xgrad::requires_grad());  xgrad::zeros({2}, xgrad::kLong);
//   xgrad::ones({2}, xgrad::TensorOptions().dtype(xgrad::kDouble).requires_grad(true));
// A Dtype converts to TensorOptions. xgrad computes on the CPU only: Device exists so that
// device-agnostic programs compile, and asking for a CUDA device is an Error.
#include <cstdint>
#include <iosfwd>

#include <xgrad/core/dtype.hpp>

namespace xgrad {

enum class DeviceType { CPU, CUDA };
inline constexpr DeviceType kCPU = DeviceType::CPU;
inline constexpr DeviceType kCUDA = DeviceType::CUDA;

class Device {
 public:
  Device(DeviceType type, std::int64_t index = -1) : type_(type), index_(index) {}
  DeviceType type() const { return type_; }
  std::int64_t index() const { return index_; }
  bool is_cpu() const { return type_ == DeviceType::CPU; }
  bool is_cuda() const { return type_ == DeviceType::CUDA; }
  friend bool operator==(const Device& a, const Device& b) { return a.type_ == b.type_ && a.index_ == b.index_; }
  friend bool operator!=(const Device& a, const Device& b) { return !(a == b); }

 private:
  DeviceType type_;
  std::int64_t index_;
};
std::ostream& operator<<(std::ostream& out, const Device& device);
std::ostream& operator<<(std::ostream& out, DeviceType type);

// Throws Error naming `op` unless the device is the CPU.
void check_cpu(const Device& device, const char* op);

namespace cuda {
// Always false: xgrad has no GPU backend.
inline bool is_available() { return false; }
inline std::int64_t device_count() { return 0; }
}  // namespace cuda

class TensorOptions {
 public:
  TensorOptions() = default;
  TensorOptions(Dtype dtype) : dtype_(dtype), has_dtype_(true) {}
  TensorOptions(TypeMeta dtype) : TensorOptions(Dtype(dtype)) {}
  TensorOptions(Device device) : device_(device) {}
  TensorOptions(DeviceType device) : device_(device) {}

  TensorOptions dtype(Dtype value) const { TensorOptions copy = *this; copy.dtype_ = value; copy.has_dtype_ = true; return copy; }
  TensorOptions requires_grad(bool value) const { TensorOptions copy = *this; copy.requires_grad_ = value; return copy; }
  TensorOptions device(Device value) const { TensorOptions copy = *this; copy.device_ = value; return copy; }

  // The dtype set, else the default dtype (get_default_dtype(), float32 unless changed).
  TypeMeta dtype() const { return has_dtype_ ? dtype_ : get_default_dtype(); }
  bool has_dtype() const { return has_dtype_; }
  bool requires_grad() const { return requires_grad_; }
  Device device() const { return device_; }

 private:
  Dtype dtype_ = kFloat32;
  bool has_dtype_ = false;
  bool requires_grad_ = false;
  Device device_ = Device(kCPU);
};

// As libtorch prints them: TensorOptions(dtype=float, device=cpu, layout=Strided, ...).
std::ostream& operator<<(std::ostream& out, const TensorOptions& options);

inline TensorOptions dtype(Dtype value) { return TensorOptions().dtype(value); }
inline TensorOptions requires_grad(bool value = true) { return TensorOptions().requires_grad(value); }
inline TensorOptions device(Device value) { return TensorOptions().device(value); }

}  // namespace xgrad
