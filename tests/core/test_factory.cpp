// libtorch's sizes, options and factories: what a libtorch program writes must compile and give
// PyTorch's dtypes and values (expected values from PyTorch 1.13).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <sstream>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::throws_error_containing;

TEST(IntArrayRef, AcceptsWhatLibtorchProgramsWrite) {
  const int n = 4;
  const std::int64_t m = 3;
  const std::size_t k = 2;
  EXPECT_EQ(zeros({n, m}).sizes(), IntArrayRef({4, 3}));
  EXPECT_EQ(zeros({k, k}).sizes(), IntArrayRef({2, 2}));
  EXPECT_EQ(zeros({6, k}).sizes(), IntArrayRef({6, 2}));  // mixed int and size_t, no narrowing
  EXPECT_EQ(randn(3).sizes(), IntArrayRef({3}));
  EXPECT_EQ(ones(std::vector<std::int64_t>{2, 5}).sizes(), IntArrayRef({2, 5}));
  EXPECT_EQ(zeros({}).dim(), 0);
}

TEST(IntArrayRef, ViewOfSizes) {
  const Tensor x = zeros({2, 3, 4});
  const IntArrayRef sizes = x.sizes();
  EXPECT_EQ(sizes.size(), 3u);
  EXPECT_EQ(sizes[1], 3);
  EXPECT_EQ(sizes.back(), 4);
  EXPECT_EQ(sizes.slice(1).vec(), (std::vector<std::int64_t>{3, 4}));
  std::int64_t product = 1;
  for (std::int64_t size : sizes) product *= size;
  EXPECT_EQ(product, x.numel());
  std::ostringstream out;
  out << sizes;
  EXPECT_EQ(out.str(), "[2, 3, 4]");
  EXPECT_EQ(x.size(-1), 4);
  EXPECT_TRUE(throws_error_containing([&] { (void)sizes.slice(4); }, {"slice", "4", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_error_containing([&] { (void)x.size(3); }, {"size", "dim 3", "[2, 3, 4]"}));
}

TEST(TensorOptions, FactoriesTakeOptionsLast) {
  const Tensor a = randn({2, 3}, requires_grad());
  EXPECT_TRUE(a.requires_grad());
  EXPECT_EQ(a.dtype(), kFloat);
  const Tensor b = zeros({2}, kLong);
  EXPECT_EQ(b.dtype(), kInt64);
  const Tensor c = ones({2}, TensorOptions().dtype(kDouble).requires_grad(true));
  EXPECT_EQ(c.dtype(), kFloat64);
  EXPECT_TRUE(c.requires_grad());
  EXPECT_EQ(full({2}, 7, dtype(kLong)).dtype(), kInt64);
  EXPECT_EQ(a.options().dtype(), kFloat32);
  EXPECT_TRUE(throws_error_containing([&] { (void)zeros({2}, kLong).requires_grad_(); }, {"requires_grad_", "int64"}));
  EXPECT_TRUE(throws_error_containing([&] { (void)zeros({-1}); }, {"zeros", "negative", "[-1]"}));
}

TEST(TensorOptions, DevicesCompileAndOnlyTheCpuExists) {
  const Device device(cuda::is_available() ? kCUDA : kCPU);
  EXPECT_TRUE(device.is_cpu());
  const Tensor x = ones({2}).to(device);
  EXPECT_TRUE(all_close(x, ones({2}), 0.0, 0.0));
  EXPECT_TRUE(throws_error_containing([&] { (void)x.to(Device(kCUDA, 0)); }, {"to", "cuda:0", "CPU"}));
  EXPECT_TRUE(throws_error_containing([&] { (void)zeros({2}, TensorOptions(kCUDA)); }, {"cuda"}));
}

// torch.full((2,), 7) is int64, torch.full((2,), 7.5) float32, torch.full((2,), True) bool.
TEST(Factories, FullInfersTheDtypeFromTheValueAsPython) {
  EXPECT_EQ(full({2}, 7).dtype(), kInt64);
  EXPECT_EQ(full({2}, 7.5).dtype(), kFloat32);
  EXPECT_EQ(full({2}, true).dtype(), kBool);
  EXPECT_EQ(full({2}, 7, kFloat64).to_vector<double>(), (std::vector<double>{7.0, 7.0}));
}

// torch.arange(0, 10, 2) -> int64 [0, 2, 4, 6, 8]; torch.arange(0, 1, 0.25) -> float32 [0, .25, .5, .75];
// torch.linspace(0, 1, 5) -> [0, .25, .5, .75, 1]; torch.eye(2, 3).
TEST(Factories, RangesAndEye) {
  EXPECT_EQ(arange(0, 10, 2).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 2, 4, 6, 8}));
  EXPECT_EQ(arange(5).dtype(), kInt64);
  EXPECT_EQ(arange(0, 1, 0.25).to_vector<float>(), (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f}));
  EXPECT_EQ(arange(3, kFloat64).to_vector<double>(), (std::vector<double>{0.0, 1.0, 2.0}));
  EXPECT_EQ(arange(10, 0, -3).to_vector<std::int64_t>(), (std::vector<std::int64_t>{10, 7, 4, 1}));
  EXPECT_EQ(linspace(0, 1, 5).to_vector<float>(), (std::vector<float>{0.0f, 0.25f, 0.5f, 0.75f, 1.0f}));
  EXPECT_EQ(linspace(0, 1, 1).to_vector<float>(), (std::vector<float>{0.0f}));
  EXPECT_EQ(eye(2, 3).to_vector<float>(), (std::vector<float>{1, 0, 0, 0, 1, 0}));
  EXPECT_TRUE(throws_error_containing([] { (void)arange(0, 10, 0); }, {"arange", "step"}));
  EXPECT_TRUE(throws_error_containing([] { (void)arange(0, -10, 1); }, {"arange", "-10"}));
}

TEST(Factories, RandomIntegersAndPermutations) {
  manual_seed(1);
  const Tensor r = randint(0, 10, {1000});
  EXPECT_EQ(r.dtype(), kInt64);
  std::vector<std::int64_t> values = r.to_vector<std::int64_t>();
  EXPECT_EQ(*std::min_element(values.begin(), values.end()), 0);
  EXPECT_EQ(*std::max_element(values.begin(), values.end()), 9);
  std::vector<std::int64_t> perm = randperm(50).to_vector<std::int64_t>();
  std::sort(perm.begin(), perm.end());
  for (std::int64_t i = 0; i < 50; ++i) EXPECT_EQ(perm[static_cast<std::size_t>(i)], i);
  manual_seed(1);
  EXPECT_EQ(randint(0, 10, {1000}).to_vector<std::int64_t>(), r.to_vector<std::int64_t>());
  EXPECT_TRUE(throws_error_containing([] { (void)randint(5, 5, {2}); }, {"randint", "5"}));
}

TEST(Factories, LikesAndScalarsAndBlobs) {
  const Tensor a = randn({2, 3}, kFloat64);
  EXPECT_EQ(zeros_like(a).dtype(), kFloat64);
  EXPECT_EQ(ones_like(a, kFloat32).dtype(), kFloat32);
  EXPECT_EQ(full_like(a, 2).to_vector<double>(), std::vector<double>(6, 2.0));
  EXPECT_EQ(empty_like(a).sizes(), a.sizes());
  EXPECT_EQ(rand_like(a).sizes(), a.sizes());
  EXPECT_EQ(randn_like(a).sizes(), a.sizes());
  EXPECT_EQ(tensor(1.5, kFloat64).dim(), 0);
  EXPECT_EQ(tensor(1.5, kFloat64).item().to<double>(), 1.5);
  EXPECT_EQ(tensor(3).dtype(), kInt64);
  EXPECT_EQ(tensor({1.0, 2.0}, kFloat32).dtype(), kFloat32);
  std::vector<std::uint8_t> bytes{0, 128, 255};
  const Tensor image = from_blob(bytes.data(), {3}, kUInt8);
  EXPECT_EQ(image.to(kFloat32).to_vector<float>(), (std::vector<float>{0.0f, 128.0f, 255.0f}));
  bytes[0] = 7;  // from_blob aliases: the tensor sees the new value
  EXPECT_EQ(image.sum().item<std::int64_t>(), 390);
  EXPECT_EQ(image.sum().dtype(), kInt64);
  float raw[4] = {1, 2, 3, 4};
  EXPECT_EQ(from_blob(raw, {2, 2}).data_ptr<float>()[3], 4.0f);
  EXPECT_TRUE(throws_error_containing([] { (void)from_blob(nullptr, {2}); }, {"from_blob", "null"}));
}

// torch.tensor([300.0, -1.0, 2.7]).to(torch.uint8) -> [44, 255, 2]; .to(torch.bool) -> [True, True, True].
TEST(Dtypes, StorageDtypesConvertAsPyTorch) {
  const Tensor x = tensor({300.0, -1.0, 2.7}, kFloat64);
  EXPECT_EQ(x.to(kUInt8).to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{44, 255, 2}));
  EXPECT_EQ(x.to(kBool).sum().item<std::int64_t>(), 3);
  EXPECT_EQ(tensor({0.0, 2.0}, kFloat64).to(kBool).to(kLong).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(std::string(dtype_name(kByte)), "uint8");
  EXPECT_TRUE(full({1}, true).item<bool>());
  EXPECT_TRUE(throws_error_containing([] { (void)(full({2}, true) + full({2}, true)); }, {"add", "bool"}));
  EXPECT_TRUE(throws_error_containing([] { (void)(zeros({2}, kUInt8) * 2.0); }, {"mul", "uint8"}));
  EXPECT_TRUE(throws_error_containing([] { (void)zeros({2}, kBool).item<bool>(); }, {"item", "one element"}));
  EXPECT_EQ(full({1}, true).to_string(), "tensor([True])");
}

TEST(Scalar, ItemAndArithmetic) {
  const Scalar s = tensor(2.5, kFloat64).item();
  EXPECT_TRUE(s.isFloatingPoint());
  EXPECT_EQ(s.to<int>(), 2);
  const Tensor doubled = ones({2}) * s;
  EXPECT_EQ(doubled.to_vector<float>(), (std::vector<float>{2.5f, 2.5f}));
  EXPECT_TRUE(tensor(3).item().isIntegral());
  EXPECT_TRUE(full({}, true).item().isBoolean());
}

TEST(Threads, SetAndGet) {
  const int before = get_num_threads();
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
  set_num_threads(before);
  EXPECT_TRUE(throws_error_containing([] { set_num_threads(0); }, {"set_num_threads", "0"}));
}

}  // namespace
}  // namespace xgrad
