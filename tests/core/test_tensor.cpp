// Tensor handle, factories and interop: what a user touches before any op.
#include <gtest/gtest.h>

#include <xtensor/xarray.hpp>
#include <xgrad/xtensor.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

TEST(Tensor, NestedListsGiveShapeAndDtype) {
  Tensor a = tensor({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(a.numel(), 6u);
  EXPECT_EQ(a.dim(), 2u);
  EXPECT_EQ(a.size(-1), 3u);
  EXPECT_EQ(a.size(0), 2u);
  EXPECT_TRUE(testing::throws_error_containing([&] { a.size(2); }, {"size", "dim 2", "[2, 3]"}));
  EXPECT_EQ(tensor({1.0, 2.0}, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(tensor({1, 2, 3}).dtype(), kInt64);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

// libtorch's rule: floating literals, float or double, give the default dtype (float32), so a
// double literal feeds a Linear as it does in libtorch.
TEST(Tensor, FloatingLiteralsTakeTheDefaultDtypeAsLibtorch) {
  EXPECT_EQ(tensor({1.0, 2.0}).dtype(), kFloat32);
  EXPECT_EQ(tensor({{1.0, 2.0}, {3.0, 4.0}}).dtype(), kFloat32);
  EXPECT_EQ(tensor({{{1.0}}}).dtype(), kFloat32);
  EXPECT_EQ(tensor(1.5).dtype(), kFloat32);
  EXPECT_EQ(tensor({1.5f}).dtype(), kFloat32);
  EXPECT_EQ(tensor(std::vector<double>{1.0, 2.0}).dtype(), kFloat32);
  EXPECT_EQ(tensor(ArrayRef<double>({1.0, 2.0})).dtype(), kFloat32);
  EXPECT_EQ(tensor(std::vector<int>{1, 2}).dtype(), kInt64);
  EXPECT_EQ(tensor({true, false}).dtype(), kBool);
  EXPECT_EQ(tensor({1.0, 2.0}, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(tensor({0.1}).item<float>(), 0.1f);
  nn::Linear linear(2, 3);
  EXPECT_EQ(linear(tensor({{1.0, 2.0}})).sizes(), IntArrayRef({1, 3}));

  // set_default_dtype moves literals and factories alike; only floating dtypes may be the default.
  set_default_dtype(kFloat64);
  EXPECT_EQ(tensor({1.0}).dtype(), kFloat64);
  EXPECT_EQ(tensor({1.0f}).dtype(), kFloat64);
  EXPECT_EQ(zeros({2}).dtype(), kFloat64);
  EXPECT_EQ(get_default_dtype(), kFloat64);
  set_default_dtype(kFloat32);
  EXPECT_TRUE(throws_error_containing([] { set_default_dtype(kLong); }, {"set_default_dtype", "floating-point", "int64"}));
  EXPECT_EQ(get_default_dtype(), kFloat32);
  EXPECT_EQ(randn({2}).dtype(), kFloat32);
}

// What `std::cout << ...` shows in libtorch 1.13 (checked with the same program against it).
TEST(Tensor, DtypesDevicesAndOptionsPrintAsLibtorch) {
  auto printed = [](const auto& value) {
    std::ostringstream out;
    out << value;
    return out.str();
  };
  const Tensor x = tensor({1.0, 2.0});
  EXPECT_EQ(printed(x.dtype()), "float");
  EXPECT_EQ(printed(tensor({1.0}, kFloat64).dtype()), "double");
  EXPECT_EQ(printed(tensor({1, 2}).dtype()), "long int");
  EXPECT_EQ(printed(kFloat), "Float");
  EXPECT_EQ(printed(x.scalar_type()), "Float");
  EXPECT_EQ(printed(kLong), "Long");
  EXPECT_EQ(printed(x.device()), "cpu");
  EXPECT_EQ(printed(kCPU), "cpu");
  EXPECT_EQ(printed(x.sizes()), "[2]");
  EXPECT_EQ(printed(x.options()),
            "TensorOptions(dtype=float, device=cpu, layout=Strided, requires_grad=false (default), "
            "pinned_memory=false (default), memory_format=(nullopt))");
  EXPECT_EQ(x.dtype(), kFloat);
  EXPECT_EQ(typeMetaToScalarType(x.dtype()), kFloat);
  EXPECT_EQ(x.dtype().itemsize(), 4u);
  EXPECT_EQ(x.ndimension(), 1);
}

TEST(Tensor, ToWithRequiresGradOptionsIsAnErrorAsLibtorch) {
  const Tensor x = ones({2});
  EXPECT_TRUE(throws_error_containing([&] { x.to(TensorOptions().requires_grad(true)); },
                                      {"to", "cannot take a TensorOptions with options.requires_grad set as true"}));
  EXPECT_EQ(x.to(TensorOptions().dtype(kFloat64)).dtype(), kFloat64);
}

// libtorch's TensorDataContainer: any depth of nesting, empty lists, one kind of element.
TEST(Tensor, NestedListsOfAnyDepthAsLibtorch) {
  const Tensor four = tensor({{{{1.0, 2.0}, {3.0, 4.0}}}, {{{5.0, 6.0}, {7.0, 8.0}}}}, kFloat64);
  EXPECT_EQ(four.sizes(), IntArrayRef({2, 1, 2, 2}));
  EXPECT_EQ(four.to_vector<double>(), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_EQ(tensor({{{{{1}}}}}).sizes(), IntArrayRef({1, 1, 1, 1, 1}));
  EXPECT_EQ(tensor({{{{{1}}}}}).dtype(), kInt64);
  const Tensor empty = tensor({});
  EXPECT_EQ(empty.sizes(), IntArrayRef({0}));
  EXPECT_EQ(empty.dtype(), kFloat32);
  EXPECT_EQ(tensor({{}, {}}).sizes(), IntArrayRef({2, 0}));
  EXPECT_EQ(tensor(std::vector<bool>{true, false}).dtype(), kBool);
  EXPECT_EQ(tensor({std::uint8_t{3}}).dtype(), kUInt8);
  EXPECT_EQ(tensor({1, 2}, kFloat32).to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_TRUE(throws_error_containing([] { tensor({1, 2.5}); },
                                      {"tensor", "Expected all elements of the tensor to have the same scalar type"}));
  EXPECT_TRUE(throws_error_containing([] { tensor({{1.0, 2.0}, 3.0}); }, {"tensor", "ragged"}));
  EXPECT_TRUE(throws_error_containing([] { tensor({{{1.0}}, {{2.0, 3.0}}}); }, {"tensor", "Expected all sub-lists to have sizes: 1"}));
}

TEST(Tensor, RaggedListIsAnError) {
  EXPECT_TRUE(throws_error_containing([] { tensor({{1.0f, 2.0f}, {3.0f}}); }, {"tensor", "ragged"}));
}

TEST(Tensor, FromAndToXarrayRoundTrip) {
  xt::xarray<double> values{{1.5, -2.0}, {3.25, 4.0}};
  Tensor t = from_xarray(values);
  EXPECT_EQ(t.dtype(), kFloat64);
  EXPECT_EQ(to_xarray<double>(t), values);
  Tensor labels = from_xarray(xt::xarray<std::int64_t>{2, 1});
  EXPECT_EQ(labels.dtype(), kInt64);
  EXPECT_TRUE(throws_error_containing([&] { to_xarray<float>(t); }, {"to_xarray", "float64", "float32"}));
}

TEST(Tensor, FactoriesFillAndSeed) {
  EXPECT_EQ(zeros({2}).to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_EQ(ones({2}, kFloat64).to_vector<double>(), (std::vector<double>{1, 1}));
  EXPECT_EQ(full({3}, 0.5).to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(arange(4, kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3}));
  manual_seed(3);
  const auto first = randn({5}).to_vector<float>();
  manual_seed(3);
  EXPECT_EQ(randn({5}).to_vector<float>(), first);
  for (float u : rand({100}).to_vector<float>()) {
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
  }
}

TEST(Tensor, ItemNeedsExactlyOneElement) {
  EXPECT_EQ(tensor({2.5f}).item<float>(), 2.5f);
  EXPECT_EQ(tensor({7}).item<std::int64_t>(), 7);
  EXPECT_TRUE(throws_error_containing([] { zeros({2, 3}).item<float>(); }, {"item", "[2, 3]"}));
}

TEST(Tensor, Int64CannotRequireGrad) {
  Tensor labels = tensor({1, 2});
  EXPECT_TRUE(throws_error_containing([&] { labels.requires_grad_(); }, {"requires_grad_", "int64"}));
  EXPECT_FALSE(labels.requires_grad());
}

TEST(Tensor, DetachSharesDataButNotGraph) {
  Tensor a = ones({2}).requires_grad_();
  Tensor d = a.detach();
  EXPECT_FALSE(d.requires_grad());
  d.mutable_data<float>()[0] = 5.0f;
  EXPECT_EQ(a.to_vector<float>()[0], 5.0f);
  Tensor c = a.clone();
  c.mutable_data<float>()[0] = 1.0f;
  EXPECT_EQ(a.to_vector<float>()[0], 5.0f);
}

TEST(Tensor, BackwardOnLeafSeedsOnes) {
  Tensor a = full({1}, 3.0, kFloat64).requires_grad_();
  a.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1.0}));
}

TEST(Tensor, BackwardChecksItsArguments) {
  Tensor plain = ones({2});
  EXPECT_TRUE(throws_error_containing([&] { plain.backward(); }, {"backward", "does not require grad"}));
  Tensor a = ones({2, 3}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { a.backward(); }, {"backward", "grad can be implicitly created only for scalar outputs", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { a.backward(ones({3})); }, {"backward", "[3]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { a.backward(ones({2, 3}, kFloat64)); }, {"float64", "float32"}));
  a.backward(ones({2, 3}));  // still works after the errors
  EXPECT_TRUE(a.grad().defined());
}

// Every expected string is repr() of the same tensor in PyTorch 1.13.
TEST(Tensor, PrintsLikePyTorch) {
  EXPECT_EQ(tensor({{1.0f, 2.5f}}).to_string(), "tensor([[1.0000, 2.5000]])");
  EXPECT_EQ(tensor({1, 2}).to_string(), "tensor([1, 2])");
  EXPECT_EQ(tensor({1.0, 2.0}, kFloat64).to_string(), "tensor([1., 2.], dtype=torch.float64)");
  EXPECT_EQ(tensor({1e-5f, 1.0f}).to_string(), "tensor([1.0000e-05, 1.0000e+00])");
  EXPECT_EQ(tensor({NAN, 1.0f, INFINITY}).to_string(), "tensor([nan, 1., inf])");
  EXPECT_EQ(tensor({-1.0f, 2.5f, 30.25f}).to_string(), "tensor([-1.0000,  2.5000, 30.2500])");
  EXPECT_EQ(arange(30, kFloat32).to_string(),
            "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
            "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
            "        28., 29.])");
  EXPECT_EQ(arange(24).reshape({2, 3, 4}).to_string(),
            "tensor([[[ 0,  1,  2,  3],\n"
            "         [ 4,  5,  6,  7],\n"
            "         [ 8,  9, 10, 11]],\n"
            "\n"
            "        [[12, 13, 14, 15],\n"
            "         [16, 17, 18, 19],\n"
            "         [20, 21, 22, 23]]])");
  EXPECT_EQ((tensor(1.2753f).requires_grad_() * 1.0).to_string(), "tensor(1.2753, grad_fn=<MulBackward0>)");
  EXPECT_EQ(tensor({1.0f}).requires_grad_().to_string(), "tensor([1.], requires_grad=True)");
  EXPECT_EQ(zeros({0, 3}).to_string(), "tensor([], size=(0, 3))");
  EXPECT_EQ(tensor({true, false}).to_string(), "tensor([ True, False])");
  EXPECT_EQ(tensor({0, 255}).to(kUInt8).to_string(), "tensor([  0, 255], dtype=torch.uint8)");
  EXPECT_EQ(zeros({2}).to_string(), "tensor([0., 0.])");
  EXPECT_EQ(tensor({1e9f, 1.0f}).to_string(), "tensor([1.0000e+09, 1.0000e+00])");
}

TEST(Tensor, PrintsLargeTensorsSummarisedLikePyTorch) {
  EXPECT_EQ(arange(2000, kFloat32).reshape({40, 50}).to_string(),
            "tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 4.7000e+01, 4.8000e+01,\n"
            "         4.9000e+01],\n"
            "        [5.0000e+01, 5.1000e+01, 5.2000e+01,  ..., 9.7000e+01, 9.8000e+01,\n"
            "         9.9000e+01],\n"
            "        [1.0000e+02, 1.0100e+02, 1.0200e+02,  ..., 1.4700e+02, 1.4800e+02,\n"
            "         1.4900e+02],\n"
            "        ...,\n"
            "        [1.8500e+03, 1.8510e+03, 1.8520e+03,  ..., 1.8970e+03, 1.8980e+03,\n"
            "         1.8990e+03],\n"
            "        [1.9000e+03, 1.9010e+03, 1.9020e+03,  ..., 1.9470e+03, 1.9480e+03,\n"
            "         1.9490e+03],\n"
            "        [1.9500e+03, 1.9510e+03, 1.9520e+03,  ..., 1.9970e+03, 1.9980e+03,\n"
            "         1.9990e+03]])");
}

}  // namespace
}  // namespace xgrad
