#include <cstdint>
#include <optional>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/thread_pool.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/data/transforms/tensor.hpp>

namespace xgrad::data::transforms::detail {

Tensor per_channel(const std::vector<double>& values, const char* transform, const char* name) {
  check(!values.empty(), transform, ": ", name, " needs at least one value (one per channel)");
  const std::vector<float> narrowed(values.begin(), values.end());
  return from_buffer(narrowed.data(), {static_cast<std::int64_t>(narrowed.size()), 1, 1});
}

void check_channels(const Tensor& mean, const Tensor& stddev) {
  const std::int64_t m = mean.size(0), s = stddev.size(0);
  check(m == s || m == 1 || s == 1, "Normalize: mean has ", m, " values but stddev has ", s,
        " (give one value, or one per channel for both)");
}

namespace {

// Elements a thread must normalise before a second one joins (a few microseconds of divisions).
constexpr double kMinElementsPerThread = 16384;

// (x - mean[c]) / stddev[c] for a float32 (N, C, ...) batch in one pass into one new tensor, rounded
// as sub and then div round: where sub and div_ hold the difference and div_'s result beside the
// batch (3 MB each for a test batch of 1000 MNIST images), only the result is made here. mean and
// stddev hold one value or one per channel (per_channel's float32 (C, 1, 1)); empty for other
// inputs, which take the two ops. Planes are normalised in blocks on xgrad's threads.
std::optional<Tensor> normalize_float_batch(const Tensor& data, const Tensor& mean, const Tensor& stddev) {
  const std::int64_t channels = data.dim() >= 3 ? data.size(-3) : 0;
  const auto per_channel_or_one = [&](const Tensor& t) {
    return t.dtype() == kFloat32 && (t.numel() == 1 || t.numel() == channels);
  };
  if (data.dtype() != kFloat32 || data.dim() < 4 || !data.is_contiguous() || !per_channel_or_one(mean) ||
      !per_channel_or_one(stddev))
    return std::nullopt;
  const Array<float>& in = array<float>(data);
  const float* m = array<float>(mean).data();
  const float* s = array<float>(stddev).data();
  Array<float> out = Array<float>::from_shape(in.shape());
  // A channel's plane is the run of elements one mean and stddev apply to; channels take turns.
  const auto run = static_cast<std::size_t>(data.size(-2) * data.size(-1));
  const auto per_channel = static_cast<std::size_t>(channels);
  const bool one_mean = mean.numel() == 1, one_stddev = stddev.numel() == 1;
  const auto planes = static_cast<std::int64_t>(run == 0 ? 0 : in.size() / run);
  const double elements = static_cast<double>(in.size());
  thread_pool::for_item_blocks(planes, elements, kMinElementsPerThread, [&](std::int64_t first, std::int64_t last) {
    for (auto plane = static_cast<std::size_t>(first); plane < static_cast<std::size_t>(last); ++plane) {
      const std::size_t c = plane % per_channel, start = plane * run;
      const float shift = m[one_mean ? 0 : c], scale = s[one_stddev ? 0 : c];
      for (std::size_t i = start; i < start + run; ++i) out.data()[i] = (in.data()[i] - shift) / scale;
    }
  });
  return make_tensor(std::move(out));
}

}  // namespace

Tensor normalize_stacked(const Tensor& data, const Tensor& mean, const Tensor& stddev) {
  if (data.dim() >= 4) {
    if (auto normalised = normalize_float_batch(data, mean, stddev)) return *std::move(normalised);
    return data.sub(mean).div_(stddev);
  }
  // An example of fewer than 3 dims broadcasts against (C, 1, 1) into a higher rank, which a
  // stacked batch would not: do what each example alone would get.
  std::vector<Tensor> rows;
  rows.reserve(static_cast<std::size_t>(data.size(0)));
  for (std::int64_t i = 0; i < data.size(0); ++i) rows.push_back(data[i].sub(mean).div(stddev));
  return rows.empty() ? data : xgrad::stack(rows);
}

}  // namespace xgrad::data::transforms::detail
