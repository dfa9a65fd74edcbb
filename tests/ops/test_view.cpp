// Views share storage (ops/view.cpp, core/view.cpp) and libtorch's indexing (ops/tensor_index.cpp),
// against PyTorch's fixtures in tests/golden/views.json (make_golden_views.py): each view op's
// values, strides, offset and gradient; programs that write in place through views and bases;
// and the errors PyTorch raises.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad::testing {
namespace {

using namespace xgrad::indexing;
using Op = std::function<Tensor(const Tensor&)>;

Tensor longs(std::initializer_list<std::int64_t> values) { return tensor(std::vector<std::int64_t>(values)); }

// The ops of make_golden_views.py's VIEWS, under the same names.
const std::map<std::string, Op>& view_ops() {
  static const std::map<std::string, Op> ops = {
      {"view", [](const Tensor& x) { return x.view({6, 4}); }},
      {"view_infer", [](const Tensor& x) { return x.view({-1, 2}); }},
      {"reshape_view", [](const Tensor& x) { return x.reshape({6, 4}); }},
      {"reshape_copy", [](const Tensor& x) { return x.transpose(0, 1).reshape({12, 2}); }},
      {"flatten", [](const Tensor& x) { return x.flatten(); }},
      {"flatten_from_1", [](const Tensor& x) { return x.flatten(1); }},
      {"squeeze", [](const Tensor& x) { return x.squeeze(); }},
      {"squeeze_dim", [](const Tensor& x) { return x.squeeze(1); }},
      {"unsqueeze", [](const Tensor& x) { return x.unsqueeze(2); }},
      {"t", [](const Tensor& x) { return x.t(); }},
      {"transpose", [](const Tensor& x) { return x.transpose(0, 2); }},
      {"permute", [](const Tensor& x) { return x.permute({2, 0, 1}); }},
      {"expand", [](const Tensor& x) { return x.expand({2, 3, 4}); }},
      {"expand_new_dims", [](const Tensor& x) { return x.expand({2, 3, 4}); }},
      {"select", [](const Tensor& x) { return x.select(1, 1); }},
      {"select_negative", [](const Tensor& x) { return x.select(-1, -2); }},
      {"operator_index", [](const Tensor& x) { return x[1]; }},
      {"narrow", [](const Tensor& x) { return x.narrow(2, 1, 2); }},
      {"slice_step", [](const Tensor& x) { return x.slice(1, std::nullopt, std::nullopt, 2); }},
      {"slice_negative", [](const Tensor& x) { return x.slice(2, -3, -1); }},
      {"chunk", [](const Tensor& x) { return x.chunk(2, 2)[1]; }},
      {"split", [](const Tensor& x) { return x.split(2, 1)[1]; }},
      {"split_with_sizes", [](const Tensor& x) { return x.split_with_sizes({1, 3}, 2)[1]; }},
      {"unbind", [](const Tensor& x) { return x.unbind(1)[2]; }},
      {"diagonal", [](const Tensor& x) { return x.diagonal(0, 1, 2); }},
      {"diagonal_above", [](const Tensor& x) { return x.diagonal(1, 1, 2); }},
      {"diagonal_below", [](const Tensor& x) { return x.diagonal(-1, 0, 2); }},
      {"as_strided", [](const Tensor& x) { return x.as_strided({2, 2}, {1, 2}, 1); }},
      {"as_strided_overlap", [](const Tensor& x) { return x.as_strided({3, 3}, {1, 1}); }},
      {"unfold", [](const Tensor& x) { return x.unfold(2, 2, 1); }},
      {"unfold_step", [](const Tensor& x) { return x.unfold(1, 2, 2); }},
      {"chain", [](const Tensor& x) { return x.transpose(0, 1)[1].narrow(1, 1, 2).t(); }},
      {"index_slice_int", [](const Tensor& x) { return x.index({Slice(), 1}); }},
      {"index_ellipsis_step", [](const Tensor& x) { return x.index({"...", Slice(1, None, 2)}); }},
      {"index_none", [](const Tensor& x) { return x.index({None, 0}); }},
      {"index_true", [](const Tensor& x) { return x.index({true}); }},
      {"index_tensor", [](const Tensor& x) { return x.index({longs({0, 2, 2})}); }},
      {"index_tensor_negative", [](const Tensor& x) { return x.index({longs({-1, 0})}); }},
      {"index_tensors_separated", [](const Tensor& x) { return x.index({longs({0, 1}), Slice(), longs({3, 0})}); }},
      {"index_tensors_adjacent",
       [](const Tensor& x) { return x.index({Slice(), tensor({{0, 2}, {1, 1}}), longs({1, 3})}); }},
      {"index_mask", [](const Tensor& x) { return x.index({x > 0}); }},
      {"index_mask_rows", [](const Tensor& x) { return x.index({tensor({true, false, true})}); }},
      {"index_slice_then_tensor", [](const Tensor& x) { return x.index({Slice(1, None), longs({0, 3})}); }},
  };
  return ops;
}

const Json& fixture(const char* list) { return golden_file("views.json").at(list); }

TEST(ViewFixtures, ValuesLayoutNamesAndGradientsMatchPyTorch) {
  ASSERT_EQ(fixture("views").size(), view_ops().size());
  for (const Json& c : fixture("views")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const Op& op = view_ops().at(name);
    const Tensor x = golden_tensor(c.at("input")).requires_grad_();
    const Tensor y = op(x);
    EXPECT_TRUE(matches_golden(y, golden_tensor(c.at("output"))));
    EXPECT_EQ(y.strides(), c.at("strides").get<std::vector<std::int64_t>>());
    EXPECT_EQ(y.storage_offset(), c.at("storage_offset").get<std::int64_t>());
    EXPECT_EQ(y.is_contiguous(), c.at("is_contiguous").get<bool>());
    EXPECT_EQ(y.is_view(), c.at("is_view").get<bool>());
    EXPECT_EQ(std::string(y.grad_fn()->name()), c.at("grad_fn").get<std::string>());
    y.backward(golden_tensor(c.at("upstream")));
    EXPECT_TRUE(matches_golden(x.grad(), golden_tensor(c.at("grad"))));
  }
}

TEST(ViewFixtures, EveryViewOpPassesGradcheckAndGradgradcheck) {
  for (const Json& c : fixture("views")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    const Op& op = view_ops().at(name);
    // Masks read the input's values: keep the one the fixture used, away from 0.
    const Tensor x = golden_tensor(c.at("input")).requires_grad_();
    const auto fn = [&op](const std::vector<Tensor>& in) { return op(in[0]); };
    EXPECT_TRUE(passes_gradcheck(fn, {x}));
    EXPECT_TRUE(passes_gradgradcheck(fn, {x}));
  }
}

// ---- programs that write in place through views -------------------------------------------------

using Results = std::map<std::string, Tensor>;
using Names = std::map<std::string, std::string>;
using Program = std::function<Results(const std::vector<Tensor>&, Names&)>;

// gradcheck runs the programs under NoGradGuard too, where nothing has a grad_fn.
std::string node_name(const Tensor& t) { return t.grad_fn() ? t.grad_fn()->name() : ""; }

const std::map<std::string, Program>& programs() {
  static const std::map<std::string, Program> all = {
      {"narrow_mul",
       [](const std::vector<Tensor>& in, Names& names) {
         Tensor y = in[0] * 1;
         Tensor v = y.narrow(0, 0, 2);
         v.mul_(3);
         names["y_grad_fn"] = node_name(y);
         names["v_grad_fn"] = node_name(v);
         return Results{{"y", y}, {"loss", (y * y).sum()}};
       }},
      {"select_add_tensor",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y[1].add_(in[1][0]);
         return Results{{"y", y}, {"loss", y.sin().sum()}};
       }},
      {"base_then_view",
       [](const std::vector<Tensor>& in, Names& names) {
         Tensor y = in[0] * 2;
         Tensor v = y.select(1, 0);
         y.mul_(3);
         names["v_grad_fn"] = node_name(v);
         return Results{{"v", v}, {"loss", (v * v).sum()}};
       }},
      {"copy_into_zeros",
       [](const std::vector<Tensor>& in, Names& names) {
         Tensor y = zeros({4, 3}, kFloat64);
         y.narrow(1, 1, 2).copy_(in[0]);
         names["y_grad_fn"] = node_name(y);
         const Tensor c = arange(12, kFloat64).view({4, 3});
         return Results{{"y", y}, {"loss", (y * c).sum()}};
       }},
      {"view_of_view_inplace",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0].sin();
         y.t()[0].mul_(2);
         return Results{{"y", y}, {"loss", y.sum()}};
       }},
      {"fill_row",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y[2].fill_(5);
         return Results{{"y", y}, {"loss", (y * y).sum()}};
       }},
      {"zero_through_unsqueeze",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.unsqueeze(0).index({0, 1}).zero_();
         return Results{{"y", y}, {"loss", (y * y).sum()}};
       }},
      {"index_put_rows",
       [](const std::vector<Tensor>& in, Names& names) {
         Tensor y = in[0] * 1;
         y.index_put_({longs({0, 2})}, in[1]);
         names["y_grad_fn"] = node_name(y);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"index_put_accumulate",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.index_put_(std::vector<std::optional<Tensor>>{longs({1, 1})}, in[1], true);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"index_put_mask_scalar",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.index_put_({y > 0}, 0.5);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"index_put_slice_column",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.index_put_({Slice(), longs({2, 0})}, in[1].index({Slice(), Slice(None, 2)}));
         return Results{{"y", y}, {"loss", y.pow(3).sum()}};
       }},
      {"index_add",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.index_add_(0, longs({2, 0}), in[1], 2);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"index_copy",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.index_copy_(0, longs({2, 0}), in[1]);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"index_fill",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.index_fill_(1, longs({1}), -1.5);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"scatter",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.scatter_(1, tensor({{2, 0}, {1, 0}, {0, 2}, {1, 2}}), in[1]);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"scatter_add",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.scatter_add_(1, tensor({{2, 0}, {1, 1}, {0, 2}, {1, 0}}), in[1]);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
      {"masked_scatter",
       [](const std::vector<Tensor>& in, Names&) {
         Tensor y = in[0] * 1;
         y.masked_scatter_(tensor({{true, false, true}}).expand({4, 3}), in[1]);
         return Results{{"y", y}, {"loss", y.pow(2).sum()}};
       }},
  };
  return all;
}

TEST(ViewPrograms, InPlaceWritesThroughViewsGivePyTorchsValuesAndGradients) {
  ASSERT_EQ(fixture("programs").size(), programs().size());
  for (const Json& c : fixture("programs")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    std::vector<Tensor> leaves;
    for (const Json& leaf : c.at("leaves")) leaves.push_back(golden_tensor(leaf).requires_grad_());
    Names names;
    const Results results = programs().at(name)(leaves, names);
    for (const auto& [key, expected] : c.at("results").items()) {
      SCOPED_TRACE(key);
      EXPECT_TRUE(matches_golden(results.at(key), golden_tensor(expected)));
    }
    for (const auto& [key, expected] : c.at("names").items()) EXPECT_EQ(names.at(key), expected.get<std::string>());
    results.at("loss").backward();
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_TRUE(matches_golden(leaves[i].grad(), golden_tensor(c.at("grads")[i])));
    }
  }
}

TEST(ViewPrograms, DifferentiateTwice) {
  // The gradient of each program's loss, as a function of its leaves, differentiates again.
  for (const Json& c : fixture("programs")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    std::vector<Tensor> leaves;
    for (const Json& leaf : c.at("leaves")) leaves.push_back(golden_tensor(leaf).requires_grad_());
    const Program& program = programs().at(name);
    const auto loss = [&program](const std::vector<Tensor>& in) {
      Names names;
      return program(in, names).at("loss");
    };
    EXPECT_TRUE(passes_gradcheck(loss, leaves));
    EXPECT_TRUE(passes_gradgradcheck(loss, leaves));
  }
}

// ---- errors -----------------------------------------------------------------------------------

std::map<std::string, std::function<void()>> failing_calls() {
  return {
      {"view_incompatible", [] { zeros({2, 3, 4}).transpose(0, 1).view({24}); }},
      {"inplace_view_of_leaf", [] { ones({4}, requires_grad()).narrow(0, 0, 2).mul_(2); }},
      {"inplace_unbind", [] { (ones({4}, requires_grad()) * 1).unbind(0)[0].mul_(2); }},
      {"inplace_split", [] { (ones({4}, requires_grad()) * 1).split(2)[0].mul_(2); }},
      {"inplace_chunk", [] { (ones({4}, requires_grad()) * 1).chunk(2)[0].mul_(2); }},
      {"inplace_expanded", [] { zeros({3, 1}).expand({3, 4}).add_(1); }},
      {"saved_view_modified",
       [] {
         const Tensor a = randn({3}, requires_grad());
         const Tensor b = a * 1;
         const Tensor r = b.slice(0, 0, 2).sin();
         b.mul_(2);
         r.sum().backward();
       }},
      {"as_strided_outside", [] { zeros({2, 3, 4}).as_strided({100}, {1}); }},
      {"narrow_past_end", [] { zeros({2, 3, 4}).narrow(0, 1, 5); }},
      {"select_out_of_range", [] { zeros({2, 3, 4}).select(1, 7); }},
      {"index_out_of_range", [] { zeros({2, 3, 4})[5]; }},
      {"index_tensor_out_of_range", [] { zeros({2, 3, 4}).index({longs({0, 5})}); }},
      {"index_float_tensor", [] { zeros({2, 3, 4}).index({tensor({0.5})}); }},
      {"mask_wrong_shape", [] { zeros({2, 3, 4}).index({tensor({true, false, true})}); }},
      {"too_many_indices", [] { zeros({2, 3, 4}).index({0, 0, 0, 0}); }},
      {"index_put_shape_mismatch", [] { zeros({2, 3, 4}).index_put_({longs({0, 1})}, zeros({3})); }},
  };
}

// The words of PyTorch's message that xgrad's must contain: its first sentence, without the
// parts that name PyTorch's own types or differ in how they count.
std::string key_words(const std::string& name, const std::string& message) {
  if (name == "saved_view_modified") return "modified by an inplace operation";
  if (name == "as_strided_outside") return "as_strided";
  if (name == "narrow_past_end") return "start (1) + length (5) exceeds dim";
  if (name == "select_out_of_range") return "index 7 is out of bounds for dimension 1 with size 3";
  const std::size_t period = message.find(". ");
  return period == std::string::npos ? message : message.substr(0, period);
}

TEST(ViewErrors, RaisedWithPyTorchsWords) {
  const auto calls = failing_calls();
  ASSERT_EQ(fixture("errors").size(), calls.size());
  for (const Json& c : fixture("errors")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    EXPECT_TRUE(throws_error_containing(calls.at(name), {key_words(name, c.at("message"))}));
  }
}

TEST(ViewErrors, NothingIsHalfWritten) {
  // An index_put_ whose values do not fit changes nothing, and the tensor keeps working.
  Tensor x = arange(6, kFloat64).view({2, 3});
  EXPECT_THROW(x.index_put_({longs({0, 5})}, 1.0), Error);
  EXPECT_EQ(values(x), (std::vector<double>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(x._version(), 0);
  x.index_put_({longs({1})}, 9.0);
  EXPECT_EQ(values(x), (std::vector<double>{0, 1, 2, 9, 9, 9}));
}

// ---- sharing ------------------------------------------------------------------------------------

TEST(Views, WritesGoBothWaysAndShareOneVersionCounter) {
  Tensor x = arange(12, kFloat64).view({3, 4});
  Tensor column = x.select(1, 2);
  Tensor window = x.narrow(0, 1, 2);
  column.fill_(-1);
  EXPECT_EQ(x.index({1, 2}).item<double>(), -1.0);
  EXPECT_EQ(window.index({0, 2}).item<double>(), -1.0);
  x.index({0, 2}).zero_();  // through the base: seen in the view
  EXPECT_EQ(column[0].item<double>(), 0.0);
  EXPECT_EQ(x._version(), column._version());
  EXPECT_EQ(x._version(), 2);
  EXPECT_TRUE(column._base().is_same(x._base()));
  EXPECT_EQ(column.data_ptr<double>(), x.data_ptr<double>() + 2);
}

TEST(Views, ContiguousOfAContiguousTensorIsTheSameTensor) {
  const Tensor x = randn({3, 4});
  EXPECT_TRUE(x.contiguous().is_same(x));
  const Tensor row = x[1];
  EXPECT_TRUE(row.contiguous().is_same(row));
  const Tensor t = x.t();
  const Tensor dense = t.contiguous();
  EXPECT_FALSE(dense.is_same(t));
  EXPECT_TRUE(dense.is_contiguous());
  EXPECT_TRUE(dense.equal(t));
}

TEST(Views, AThousandViewsOfALargeTensorCopyNothing) {
  const Tensor big = zeros({25, 1000, 1000});  // 100 MB of float32
  const auto* first = big.data_ptr<float>();
  std::int64_t offsets = 0;
  for (int i = 0; i < 1000; ++i) {
    const Tensor v = big.narrow(1, i % 900, 100).transpose(0, 2).unsqueeze(0).expand({3, 1000, 100, 25});
    offsets += v.storage_offset();
    ASSERT_EQ(v.data_ptr<float>(), first + v.storage_offset());
  }
  EXPECT_GT(offsets, 0);
}

TEST(Views, FromBlobAliasesTheCallersMemoryAndCallsTheDeleter) {
  std::vector<float> buffer{1, 2, 3, 4, 5, 6};
  bool deleted = false;
  {
    Tensor t = from_blob(buffer.data(), {2, 3}, [&](void*) { deleted = true; }, kFloat32);
    t.mul_(2);
    EXPECT_EQ(buffer[5], 12.0f);
    buffer[0] = 100;
    EXPECT_EQ(t.index({0, 0}).item<float>(), 100.0f);
    EXPECT_EQ(t.sum().item<float>(), 100 + 4 + 6 + 8 + 10 + 12);
    Tensor columns = from_blob(buffer.data(), {3, 2}, {1, 3}, kFloat32);  // the transpose, by strides
    EXPECT_TRUE(columns.equal(t.t()));
  }
  EXPECT_TRUE(deleted);
  EXPECT_TRUE(throws_error_containing([] { from_blob(nullptr, {2}); }, {"from_blob", "null"}));
}

TEST(Views, ImageGridThroughNarrowCopy) {
  // A libtorch idiom: tiles written into a grid through narrow(...).copy_().
  Tensor grid = zeros({1, 4, 6});
  for (int row = 0; row < 2; ++row)
    for (int col = 0; col < 3; ++col)
      grid.narrow(1, 2 * row, 2).narrow(2, 2 * col, 2).copy_(full({1, 2, 2}, static_cast<float>(3 * row + col)));
  EXPECT_EQ(grid.index({0, 3, 5}).item<float>(), 5.0f);
  EXPECT_EQ(grid.index({0, 0, 2}).item<float>(), 1.0f);
  EXPECT_EQ(grid.sum().item<float>(), 4.0f * (0 + 1 + 2 + 3 + 4 + 5));
}

TEST(Views, AViewsHistoryEndsWhenItsBaseIsOverwrittenWithAConstant) {
  // fill_ on the base cuts the base from the graph (ops/inplace.cpp); the view, which had taken the
  // history of its own in-place mul_, must not keep sending gradients to e and d through it.
  const auto program = [](const std::vector<Tensor>& in) {
    const Tensor base = in[0].clone();
    const Tensor view = base.slice(0, 1);
    view.mul_(in[1]);
    base.fill_(0.5);
    return (view * view).sum() + (in[0] * in[1][0]).sum();
  };
  const Tensor d = tensor({{1.0, 2.0}, {3.0, 4.0}, {5.0, 6.0}}, kFloat64).requires_grad_();
  const Tensor e = tensor({0.5, -1.5}, kFloat64).requires_grad_();
  EXPECT_TRUE(passes_gradcheck(program, {d, e}));
  const Tensor base = d.clone();
  const Tensor view = base.slice(0, 1);
  view.mul_(e);
  base.fill_(0.5);
  EXPECT_FALSE(view.requires_grad());
  EXPECT_TRUE(view.equal(full({2, 2}, 0.5, kFloat64)));
}

TEST(Views, AnEmptyViewWithAnOffsetIsReadAndWrittenInPlace) {
  // x[1:] of an empty [4, 2, 0] tensor sits at offset 2 of a storage of no elements (found by
  // fuzz/engine_program, which met an Error here and, under UBSan, an offset added to null).
  const Tensor x = zeros({4, 2, 0}, kFloat64).requires_grad_();
  const Tensor y = x * 2.0;
  const Tensor rest = y.slice(0, 1);
  EXPECT_EQ(rest.storage_offset(), 2);  // as PyTorch: strides (2, 1, 1)
  EXPECT_TRUE(rest.to_vector<double>().empty());
  rest.clamp_(-1.0);
  rest.add_(1.0);
  EXPECT_EQ(rest.shape(), (Shape{3, 2, 0}));
  (y.sum() + x.sum()).backward();
  EXPECT_EQ(x.grad().shape(), (Shape{4, 2, 0}));
}

TEST(Views, NonContiguousTensorsPrintSaveAndGradcheck) {
  const Tensor x = arange(6, kFloat64).view({2, 3}).t();
  EXPECT_EQ(printed(x), printed(x.contiguous()));
  EXPECT_TRUE(passes_gradcheck([](const std::vector<Tensor>& in) { return in[0].exp(); },
                               {leaf({3, 2}).t().detach().requires_grad_()}));
}

}  // namespace
}  // namespace xgrad::testing
