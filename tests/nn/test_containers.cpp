// Sequential, ModuleList, Functional, Identity, Flatten and AnyModule: construction in each of
// libtorch's spellings, names, indexing, forward and errors.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <type_traits>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::printed;
using testing::throws_error_containing;

// A user module with libtorch's usual by-value forward, to be driven by containers.
struct DoubleImpl : nn::Module {
  Tensor forward(Tensor x) { return x * 2.0; }
};
XGRAD_MODULE(Double);

// A forward that takes the tensor by non-const reference still runs as a step.
struct ByReferenceImpl : nn::Module {
  Tensor forward(Tensor& x) { return x + 1.0; }
};
XGRAD_MODULE(ByReference);

// ---- Sequential ------------------------------------------------------------------------------------

TEST(Sequential, BuildsFromHoldersPointersAndModules) {
  auto seq = nn::Sequential(nn::Linear(2, 8), nn::Functional(xgrad::relu), std::make_shared<nn::LinearImpl>(8, 3),
                            nn::TanhImpl(), Double());
  EXPECT_EQ(seq->size(), 5u);
  EXPECT_FALSE(seq->is_empty());
  EXPECT_EQ(seq->named_children().keys(), (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  EXPECT_EQ(seq->named_parameters().keys(), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(seq(ones({4, 2})).sizes(), IntArrayRef({4, 3}));
  // Braces work as well as parentheses.
  nn::Sequential braced{nn::Linear(2, 4), nn::ReLU()};
  EXPECT_EQ(braced->size(), 2u);
}

TEST(Sequential, NamedFormTakesNamesAndModules) {
  nn::Sequential seq({{"fc", nn::Linear(2, 3)}, {"act", nn::Tanh()}, {"out", std::make_shared<nn::LinearImpl>(3, 1)}});
  EXPECT_EQ(seq->named_parameters().keys(),
            (std::vector<std::string>{"fc.weight", "fc.bias", "out.weight", "out.bias"}));
  EXPECT_EQ(printed(seq),
            "Sequential(\n"
            "  (fc): Linear(in_features=2, out_features=3, bias=true)\n"
            "  (act): Tanh()\n"
            "  (out): Linear(in_features=3, out_features=1, bias=true)\n"
            ")");
  OrderedDict<std::string, nn::AnyModule> dict;
  dict.insert("first", nn::AnyModule(nn::Linear(2, 2)));
  dict.insert("second", nn::AnyModule(nn::ReLU()));
  auto from_dict = std::make_shared<nn::SequentialImpl>(std::move(dict));
  EXPECT_EQ(from_dict->named_children().keys(), (std::vector<std::string>{"first", "second"}));
}

TEST(Sequential, PushBackAppendsByPositionOrName) {
  nn::Sequential seq;
  EXPECT_TRUE(seq->is_empty());
  seq->push_back(nn::Linear(2, 3));
  seq->push_back("act", nn::ReLU());
  seq->push_back(std::make_shared<nn::LinearImpl>(3, 1));
  seq->push_back(nn::AnyModule(nn::Sigmoid()));
  EXPECT_EQ(seq->named_children().keys(), (std::vector<std::string>{"0", "act", "2", "3"}));
  EXPECT_TRUE(throws_error_containing([&] { seq->push_back("act", nn::Tanh()); },
                                      {"Sequential", "\"act\"", "already registered"}));
  EXPECT_EQ(seq->size(), 4u);  // the failed push left nothing behind
  nn::Sequential more;
  more->extend(*seq);
  EXPECT_EQ(more->size(), 4u);
  EXPECT_EQ(more->ptr(1).get(), seq->ptr(1).get());  // the steps are shared, not copied
}

TEST(Sequential, IndexingGivesModules) {
  auto seq = nn::Sequential(nn::Linear(2, 3), nn::ReLU());
  std::shared_ptr<nn::Module> first = seq[0];
  EXPECT_EQ(first->display_name(), "Linear");
  EXPECT_NE(seq[0]->as<nn::LinearImpl>(), nullptr);
  EXPECT_EQ(seq->ptr(1)->display_name(), "ReLU");
  EXPECT_NE(seq->ptr<nn::LinearImpl>(0), nullptr);
  EXPECT_EQ(seq->ptr<nn::LinearImpl>(1), nullptr);
  EXPECT_EQ(seq->at<nn::LinearImpl>(0).options.out_features(), 3);
  EXPECT_TRUE(throws_error_containing([&] { seq->at<nn::LinearImpl>(1); }, {"ReLU", "not a Linear"}));
  EXPECT_TRUE(throws_error_containing([&] { seq[3]; }, {"Sequential: Index out of range", "index 3", "2 modules"}));
  std::vector<std::string> names;
  for (const nn::AnyModule& step : *seq) names.push_back(step.ptr()->display_name());
  EXPECT_EQ(names, (std::vector<std::string>{"Linear", "ReLU"}));
}

TEST(Sequential, ForwardAppliesEveryStepInOrder) {
  auto seq = nn::Sequential(nn::Linear(nn::LinearOptions(3, 4).dtype(kFloat64)), nn::ReLU(),
                            nn::Linear(nn::LinearOptions(4, 2).dtype(kFloat64)), nn::Sigmoid(), Double(),
                            ByReference());
  auto* first = seq[0]->as<nn::Linear>();
  auto* second = seq[2]->as<nn::Linear>();
  const Tensor x = randn({6, 3}, kFloat64);
  const Tensor expected =
      sigmoid(linear(relu(linear(x, first->weight, first->bias)), second->weight, second->bias)) * 2.0 + 1.0;
  EXPECT_TRUE(all_close(seq(x), expected, 1e-12, 1e-12));
  EXPECT_TRUE(all_close(seq->forward(x), expected, 1e-12, 1e-12));
  // An empty Sequential returns its input, as Python's does.
  EXPECT_TRUE(all_close(nn::Sequential()(x), x, 0, 0));
}

TEST(Sequential, NestedModulesGetDottedPaths) {
  auto inner = nn::Sequential(nn::Linear(3, 3), nn::ReLU());
  auto outer = nn::Sequential(nn::Linear(2, 3), inner, nn::Linear(3, 1));
  EXPECT_EQ(outer->named_parameters().keys(), (std::vector<std::string>{"0.weight", "0.bias", "1.0.weight",
                                                                         "1.0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(inner->named_parameters().keys().front(), "0.weight");
  EXPECT_EQ(outer(ones({4, 2})).sizes(), IntArrayRef({4, 1}));
  // A single Sequential argument is a copy of the handle, as in libtorch, not a nesting.
  nn::Sequential same(outer);
  EXPECT_EQ(same.get(), outer.get());
}

TEST(Sequential, GradientsOfAllParametersPassGradcheck) {
  auto seq = nn::Sequential(nn::Linear(nn::LinearOptions(2, 3).dtype(kFloat64)), nn::Tanh(),
                            nn::Linear(nn::LinearOptions(3, 2).dtype(kFloat64)));
  std::vector<Tensor> inputs{randn({4, 2}, kFloat64).requires_grad_(true)};
  for (const Tensor& parameter : seq->parameters()) inputs.push_back(parameter);
  const auto result = gradcheck([&](const std::vector<Tensor>& in) { return seq(in[0]); }, inputs);
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(Sequential, AModuleGivenByValueIsCopiedAndSharesParameters) {
  nn::LinearImpl layer(2, 2);
  auto seq = nn::Sequential(layer);
  EXPECT_NE(seq->ptr(0).get(), &layer);
  nn::init::zeros_(layer.bias);
  EXPECT_EQ(seq->at<nn::LinearImpl>(0).bias.to_vector<float>(), (std::vector<float>{0.0f, 0.0f}));
}

// ---- AnyModule --------------------------------------------------------------------------------------

TEST(AnyModule, CallsTheForwardOfTheTypeItWasMadeFrom) {
  nn::AnyModule step{Double()};
  EXPECT_FALSE(step.is_empty());
  EXPECT_TRUE(all_close(step.forward(tensor({1.0, 2.0}, kFloat64)), tensor({2.0, 4.0}, kFloat64), 0, 0));
  EXPECT_EQ(step.get<DoubleImpl>().display_name(), "Double");
  EXPECT_NE(step.ptr<DoubleImpl>(), nullptr);
  EXPECT_TRUE(throws_error_containing([&] { step.get<nn::LinearImpl>(); }, {"Double", "not a Linear"}));
  nn::AnyModule empty;
  EXPECT_TRUE(empty.is_empty());
  EXPECT_TRUE(throws_error_containing([&] { empty.forward(ones({1})); }, {"empty AnyModule"}));
  nn::AnyModule loss(nn::MSELoss{});
  EXPECT_TRUE(throws_error_containing([&] { loss.forward(ones({1})); }, {"MSELoss", "one tensor"}));
}

// ---- ModuleList ----------------------------------------------------------------------------------------

// The use ModuleList is for: a module that drives a variable number of layers itself.
struct StackImpl : nn::Module {
  explicit StackImpl(int depth) {
    for (int i = 0; i < depth; ++i) layers->push_back(nn::Linear(4, 4));
    register_module("layers", layers);
  }
  Tensor forward(Tensor x) {
    for (const auto& layer : *layers) x = relu(layer->as<nn::Linear>()->forward(x));
    return x;
  }
  nn::ModuleList layers;
};
XGRAD_MODULE(Stack);

TEST(ModuleList, HoldsModulesUnderTheirPositions) {
  Stack stack(3);
  EXPECT_EQ(stack->named_parameters().keys(),
            (std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                      "layers.2.weight", "layers.2.bias"}));
  EXPECT_EQ(stack(ones({2, 4})).sizes(), IntArrayRef({2, 4}));
  EXPECT_EQ(stack->layers->size(), 3u);
  EXPECT_EQ(stack->layers[1]->display_name(), "Linear");
  static_assert(!std::is_invocable_v<nn::ModuleList&, Tensor>, "a ModuleList has no forward");
}

TEST(ModuleList, PushBackInsertIndexAndErrors) {
  nn::ModuleList list(nn::Linear(2, 2), std::make_shared<nn::ReLUImpl>());
  list->push_back(nn::TanhImpl());
  list->insert(1, nn::Sigmoid());
  EXPECT_EQ(list->named_children().keys(), (std::vector<std::string>{"0", "1", "2", "3"}));
  std::vector<std::string> names;
  for (const auto& module : *list) names.push_back(module->display_name());
  EXPECT_EQ(names, (std::vector<std::string>{"Linear", "Sigmoid", "ReLU", "Tanh"}));
  // The children follow the new positions, as libtorch renames them.
  EXPECT_EQ(list->named_children()["1"]->display_name(), "Sigmoid");
  EXPECT_EQ(list->named_children()["3"]->display_name(), "Tanh");
  EXPECT_NE(list->ptr<nn::LinearImpl>(0), nullptr);
  EXPECT_EQ(list->at<nn::LinearImpl>(0).options.in_features(), 2);
  EXPECT_TRUE(throws_error_containing([&] { list->at<nn::LinearImpl>(2); }, {"ModuleList", "ReLU", "not a Linear"}));
  EXPECT_TRUE(throws_error_containing([&] { list[9]; }, {"ModuleList: Index out of range", "index 9", "4 modules"}));
  EXPECT_TRUE(throws_error_containing([&] { list->insert(7, nn::ReLU()); }, {"ModuleList", "insert", "7"}));
  EXPECT_EQ(printed(nn::ModuleList(nn::ReLU())), "ModuleList(\n  (0): ReLU()\n)");
  EXPECT_EQ(printed(nn::ModuleList()), "ModuleList()");
}

// ---- Functional, Identity, Flatten ---------------------------------------------------------------------

// An overloaded free function: its name alone is an overload set, which a template cannot deduce.
Tensor scaled(const Tensor& x) { return x * 10.0; }
Tensor scaled(const Tensor& x, double factor) { return x * factor; }

TEST(Functional, WrapsFreeFunctionsAndLambdas) {
  const Tensor x = tensor({{-1.0, 2.0}, {3.0, -4.0}}, kFloat64);
  EXPECT_TRUE(all_close(nn::Functional(xgrad::relu)(x), relu(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Functional(xgrad::tanh)(x), tanh(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Functional([](Tensor t) { return t * 3.0; })(x), x * 3.0, 0, 0));
  // Of an overload set, the overload taking one tensor is picked.
  EXPECT_TRUE(all_close(nn::Functional(scaled)(x), x * 10.0, 0, 0));
  // Extra arguments are bound after the input, as libtorch's std::bind form.
  EXPECT_TRUE(all_close(nn::Functional(xgrad::softmax, 1)(x), softmax(x, 1), 0, 0));
  EXPECT_TRUE(all_close(nn::Functional(xgrad::flatten, 0, -1)(x), flatten(x), 0, 0));
  EXPECT_TRUE(nn::Functional(xgrad::relu)->parameters().empty());
  EXPECT_EQ(printed(nn::Functional(xgrad::relu)), "Functional()");
  EXPECT_TRUE(throws_error_containing([] { (void)nn::Functional(nn::FunctionalImpl::Function{}); }, {"Functional", "empty"}));
}

TEST(Identity, ReturnsItsInput) {
  const Tensor x = randn({2, 3});
  EXPECT_TRUE(all_close(nn::Identity()(x), x, 0, 0));
  EXPECT_EQ(printed(nn::Identity()), "Identity()");
}

TEST(Flatten, KeepsTheBatchDimensionByDefault) {
  const Tensor x = randn({2, 3, 4, 5});
  EXPECT_EQ(nn::Flatten()(x).sizes(), IntArrayRef({2, 60}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(0))(x).sizes(), IntArrayRef({120}));
  EXPECT_EQ(nn::Flatten(nn::FlattenOptions().start_dim(1).end_dim(2))(x).sizes(), IntArrayRef({2, 12, 5}));
  EXPECT_EQ(printed(nn::Flatten(nn::FlattenOptions().end_dim(2))), "Flatten(start_dim=1, end_dim=2)");
  EXPECT_TRUE(testing::passes_gradcheck([](const std::vector<Tensor>& in) { return nn::Flatten()(in[0]); },
                                        {testing::leaf({2, 3, 4})}));
}

}  // namespace
}  // namespace xgrad
