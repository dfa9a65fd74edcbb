// Module and its holders: registration, traversal with PyTorch's names, as<>, apply, modes, dtype
// conversion and printing; then Linear, the activations, the loss modules and the initialisers.
// Names, orders and printouts were taken from PyTorch 1.13 on the same module trees.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <type_traits>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::printed;
using testing::throws_error_containing;

// ---- a user's module, written as a libtorch program writes it -------------------------------------

struct TwoLayerImpl : nn::Module {
  TwoLayerImpl()
      : fc1(register_module("fc1", nn::Linear(2, 8))), fc2(register_module("fc2", nn::Linear(8, 3))) {
    scale = register_parameter("scale", ones({1}));
    steps = register_buffer("steps", zeros({1}, kLong));
    running = register_buffer("running", zeros({3}));
  }
  // By value and not virtual, as libtorch programs write it.
  Tensor forward(Tensor x) {
    ++calls;
    return fc2(relu(fc1(x))) * scale;
  }
  nn::Linear fc1, fc2;
  Tensor scale, steps, running;
  int calls = 0;
};
XGRAD_MODULE(TwoLayer);

// Python's reference tree:
//   class Net(nn.Module):
//     def __init__(s):
//       super().__init__()
//       s.fc1 = nn.Linear(2, 8); s.seq = nn.Sequential(nn.Linear(8, 8), nn.ReLU())
//       s.l = nn.ModuleList([nn.Linear(3, 3) for _ in range(3)] + [nn.Tanh()])
//       s.register_buffer('rm', torch.zeros(3))
//       s.f = nn.Flatten(); s.i = nn.Identity(); s.sm = nn.Softmax(dim=1); s.ls = nn.LogSoftmax(dim=1)
//       s.nll = nn.NLLLoss(); s.ce = nn.CrossEntropyLoss(); s.e = nn.Sequential()
struct NetImpl : nn::Module {
  NetImpl() {
    fc1 = register_module("fc1", nn::Linear(2, 8));
    seq = register_module("seq", nn::Sequential(nn::Linear(8, 8), nn::ReLU()));
    l = register_module("l", nn::ModuleList(nn::Linear(3, 3), nn::Linear(3, 3), nn::Linear(3, 3), nn::Tanh()));
    register_buffer("rm", zeros({3}));
    register_module("f", nn::Flatten());
    register_module("i", nn::Identity());
    register_module("sm", nn::Softmax(1));
    register_module("ls", nn::LogSoftmax(1));
    register_module("nll", nn::NLLLoss());
    register_module("ce", nn::CrossEntropyLoss());
    register_module("e", nn::Sequential());
  }
  nn::Linear fc1{nullptr};
  nn::Sequential seq{nullptr};
  nn::ModuleList l{nullptr};
};
XGRAD_MODULE(Net);

template <class M, class = void>
struct has_forward : std::false_type {};
template <class M>
struct has_forward<M, std::void_t<decltype(std::declval<M&>().forward(std::declval<Tensor>()))>> : std::true_type {};

// ---- holders ----------------------------------------------------------------------------------------

TEST(Holder, ConstructsItsModuleFromTheArguments) {
  nn::Linear fc(3, 5);
  EXPECT_FALSE(fc.is_empty());
  EXPECT_TRUE(static_cast<bool>(fc));
  EXPECT_EQ(fc->weight.sizes(), IntArrayRef({5, 3}));
  EXPECT_EQ((*fc).options.out_features(), 5);
  EXPECT_EQ(fc.get(), fc.ptr().get());
  nn::Linear no_bias(nn::LinearOptions(3, 4).bias(false));
  EXPECT_FALSE(no_bias->bias.defined());
  nn::ReLU relu;  // default-constructible modules are constructed by default, as in libtorch
  EXPECT_FALSE(relu.is_empty());
  static_assert(std::is_same_v<nn::Linear::ContainedType, nn::LinearImpl>);
  static_assert(std::is_same_v<TwoLayer::Impl, TwoLayerImpl>);
}

TEST(Holder, NullptrMakesAnEmptyHolderThatThrowsWhenUsed) {
  nn::Linear fc{nullptr};
  EXPECT_TRUE(fc.is_empty());
  EXPECT_FALSE(static_cast<bool>(fc));
  EXPECT_TRUE(throws_error_containing([&] { static_cast<void>(fc->weight); }, {"Accessing empty ModuleHolder", "Linear holder"}));
  EXPECT_TRUE(throws_error_containing([&] { *fc; }, {"Accessing empty ModuleHolder", "Linear holder"}));
  EXPECT_TRUE(throws_error_containing([&] { fc.ptr(); }, {"Accessing empty ModuleHolder", "Linear holder"}));
  EXPECT_TRUE(throws_error_containing([&] { fc(ones({1, 2})); }, {"Accessing empty ModuleHolder", "Linear holder"}));
  TwoLayer user = nullptr;
  EXPECT_TRUE(throws_error_containing([&] { static_cast<void>(user->fc1); }, {"Accessing empty ModuleHolder", "TwoLayer holder"}));
  fc = nn::Linear(2, 3);
  EXPECT_EQ(fc->weight.sizes(), IntArrayRef({3, 2}));
}

TEST(Holder, CopiesShareTheModule) {
  nn::Linear original(2, 2);
  nn::Linear copy = original;
  EXPECT_EQ(copy.get(), original.get());
  nn::init::constant_(copy->weight, 0.5);
  EXPECT_EQ(original->weight.to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));
  // From a shared_ptr, implicitly, as register_module's result is assigned.
  auto impl = std::make_shared<nn::LinearImpl>(2, 4);
  nn::Linear from_pointer = impl;
  EXPECT_EQ(from_pointer.get(), impl.get());
}

TEST(Holder, CallsTheModulesOwnForward) {
  manual_seed(0);
  TwoLayer net;
  const Tensor x = randn({5, 2});
  const Tensor y = net(x);
  EXPECT_EQ(y.sizes(), IntArrayRef({5, 3}));
  EXPECT_EQ(net->calls, 1);
  EXPECT_TRUE(all_close(net->forward(x), y, 0, 0));
  // Inside a Sequential the same by-value forward runs, on the same module.
  auto seq = nn::Sequential(net, nn::ReLU());
  EXPECT_TRUE(all_close(seq(x), relu(y), 0, 0));
  EXPECT_EQ(net->calls, 3);
  // Module itself declares no forward that a user's could fail to override.
  static_assert(!has_forward<nn::Module>::value);
  static_assert(has_forward<TwoLayerImpl>::value);
  // A holder is callable with exactly what its module's forward takes.
  static_assert(std::is_invocable_v<nn::CrossEntropyLoss&, Tensor, Tensor>);
  static_assert(!std::is_invocable_v<nn::CrossEntropyLoss&, Tensor>);
  static_assert(!std::is_invocable_v<nn::ModuleList&, Tensor>);
}

TEST(Holder, MakeSharedOfTheImplWorksToo) {
  auto net = std::make_shared<TwoLayerImpl>();
  EXPECT_EQ(net->forward(ones({1, 2})).sizes(), IntArrayRef({1, 3}));
  auto seq = nn::Sequential(net);
  EXPECT_EQ(seq->ptr(0).get(), net.get());
}

// ---- registration ---------------------------------------------------------------------------------

TEST(Module, RegistersParametersBuffersAndChildren) {
  TwoLayer net;
  EXPECT_EQ(net->named_parameters().keys(),
            (std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(net->named_buffers().keys(), (std::vector<std::string>{"steps", "running"}));
  EXPECT_EQ(net->buffers().size(), 2u);
  for (const Tensor& buffer : net->buffers()) EXPECT_FALSE(buffer.requires_grad());
  for (const Tensor& parameter : net->parameters()) EXPECT_TRUE(parameter.requires_grad());
  // register_module returned the registered module, so the member and the child are one.
  EXPECT_EQ(net->named_children()["fc1"].get(), net->fc1.get());
  // The tensors are labelled with their dotted names, for to_dot.
  EXPECT_EQ(net->fc1->weight.name(), "fc1.weight");
  EXPECT_EQ(net->scale.name(), "scale");
}

TEST(Module, RegisterParameterCanLeaveRequiresGradOff) {
  struct FrozenImpl : nn::Module {
    FrozenImpl() { frozen = register_parameter("frozen", ones({2}), /*requires_grad=*/false); }
    Tensor frozen;
  };
  FrozenImpl module;
  EXPECT_FALSE(module.frozen.requires_grad());
  EXPECT_EQ(module.parameters().size(), 1u);
}

TEST(Module, ANameRegisteredTwiceIsAnErrorAndChangesNothing) {
  TwoLayer net;
  EXPECT_TRUE(throws_error_containing([&] { net->register_module("fc1", nn::Linear(2, 2)); },
                                      {"Submodule 'fc1' already defined", "TwoLayer", "register_module"}));
  EXPECT_TRUE(throws_error_containing([&] { net->register_parameter("scale", ones({1})); },
                                      {"Parameter 'scale' already defined", "TwoLayer", "register_parameter"}));
  EXPECT_TRUE(throws_error_containing([&] { net->register_buffer("fc2", ones({1})); },
                                      {"TwoLayer", "\"fc2\"", "already registered as a submodule"}));
  EXPECT_EQ(net->children().size(), 2u);
  EXPECT_EQ(net->parameters().size(), 5u);
  EXPECT_EQ(net->buffers().size(), 2u);
  EXPECT_EQ(net->named_children()["fc1"].get(), net->fc1.get());
}

TEST(Module, BadNamesAndValuesAreErrors) {
  TwoLayer net;
  EXPECT_TRUE(throws_error_containing([&] { net->register_module("a.b", nn::ReLU()); }, {"Submodule name must not contain a dot (got 'a.b')", "TwoLayer"}));
  EXPECT_TRUE(throws_error_containing([&] { net->register_parameter("", ones({1})); }, {"Parameter name must not be empty", "TwoLayer"}));
  EXPECT_TRUE(throws_error_containing([&] { net->register_module("none", std::shared_ptr<nn::LinearImpl>()); },
                                      {"TwoLayer", "\"none\"", "null"}));
  EXPECT_TRUE(throws_error_containing([&] { net->register_module("empty", nn::Linear(nullptr)); },
                                      {"Accessing empty ModuleHolder", "Linear holder"}));
  const Tensor not_leaf = ones({2}).requires_grad_() * 2.0;
  EXPECT_TRUE(throws_error_containing([&] { net->register_parameter("w", not_leaf); }, {"TwoLayer", "\"w\"", "leaf"}));
  EXPECT_TRUE(throws_error_containing([&] { net->register_parameter("n", zeros({2}, kLong)); }, {"\"n\"", "int64"}));
  EXPECT_EQ(net->parameters().size(), 5u);
}

TEST(Module, ReplaceAndUnregisterModule) {
  TwoLayer net;
  auto replacement = net->replace_module("fc2", nn::Linear(8, 1));
  EXPECT_EQ(net->named_children()["fc2"].get(), replacement.get());
  EXPECT_EQ(replacement->weight.name(), "fc2.weight");
  net->unregister_module("fc2");
  EXPECT_EQ(net->named_children().keys(), (std::vector<std::string>{"fc1"}));
  EXPECT_TRUE(throws_error_containing([&] { net->unregister_module("fc2"); },
                                      {"No Module with name `fc2` is registered", "TwoLayer"}));
  EXPECT_TRUE(throws_error_containing([&] { net->replace_module("nope", nn::ReLU()); },
                                      {"Submodule 'nope' is not defined", "TwoLayer"}));
}

// ---- traversal, with PyTorch's names ----------------------------------------------------------------

TEST(Module, NamedParametersFollowPyTorchsDottedOrder) {
  Net net;
  EXPECT_EQ(net->named_parameters().keys(),
            (std::vector<std::string>{"fc1.weight", "fc1.bias", "seq.0.weight", "seq.0.bias", "l.0.weight",
                                      "l.0.bias", "l.1.weight", "l.1.bias", "l.2.weight", "l.2.bias"}));
  EXPECT_EQ(net->parameters().size(), 10u);
  EXPECT_EQ(net->named_parameters(/*recurse=*/false).size(), 0u);
  EXPECT_EQ(net->named_buffers().keys(), (std::vector<std::string>{"rm"}));
  // Lookups into the returned dictionary.
  const auto parameters = net->named_parameters();
  ASSERT_NE(parameters.find("seq.0.bias"), nullptr);
  EXPECT_EQ(parameters.find("seq.0.bias")->impl(), net->seq[0]->as<nn::Linear>()->bias.impl());
  EXPECT_EQ(parameters.find("seq.1.weight"), nullptr);
  EXPECT_TRUE(parameters.contains("l.2.weight"));
  EXPECT_EQ(parameters["fc1.weight"].sizes(), IntArrayRef({8, 2}));
  EXPECT_TRUE(throws_error_containing([&] { parameters["fc9.weight"]; }, {"'fc9.weight'", "not defined"}));
}

TEST(Module, NamedModulesAndChildrenFollowPyTorch) {
  Net net;
  EXPECT_EQ(net->named_modules().keys(),
            (std::vector<std::string>{"", "fc1", "seq", "seq.0", "seq.1", "l", "l.0", "l.1", "l.2", "l.3", "f", "i",
                                      "sm", "ls", "nll", "ce", "e"}));
  EXPECT_EQ(net->named_modules("model").keys()[3], "model.seq.0");
  EXPECT_EQ(net->named_modules("", /*include_self=*/false).keys().front(), "fc1");
  EXPECT_EQ(net->modules().size(), 17u);
  EXPECT_EQ(net->modules().front().get(), net.get());
  EXPECT_EQ(net->modules(/*include_self=*/false).size(), 16u);
  EXPECT_EQ(net->named_children().keys(),
            (std::vector<std::string>{"fc1", "seq", "l", "f", "i", "sm", "ls", "nll", "ce", "e"}));
  EXPECT_EQ(net->children().size(), 10u);
  EXPECT_EQ(net->children()[1].get(), net->seq.get());
}

TEST(Module, ASharedLayerIsListedOnce) {
  auto shared = std::make_shared<nn::LinearImpl>(2, 2);
  nn::Sequential net;
  net->push_back(shared);
  net->push_back(nn::ReLU());
  net->push_back(shared);
  EXPECT_EQ(net->named_parameters().keys(), (std::vector<std::string>{"0.weight", "0.bias"}));
  EXPECT_EQ(net->named_modules().keys(), (std::vector<std::string>{"", "0", "1"}));
  EXPECT_EQ(net->size(), 3u);
}

TEST(Module, SelfInModulesNeedsASharedPtr) {
  nn::LinearImpl on_stack(2, 2);
  EXPECT_TRUE(throws_error_containing([&] { on_stack.modules(); }, {"retrieve your top-level module as a shared_ptr", "Linear", "include_self"}));
  EXPECT_TRUE(on_stack.modules(/*include_self=*/false).empty());
}

TEST(Module, AsGivesTheModuleTypeOrNull) {
  auto seq = nn::Sequential(nn::Linear(2, 3), nn::ReLU());
  nn::LinearImpl* linear = seq[0]->as<nn::LinearImpl>();
  ASSERT_NE(linear, nullptr);
  EXPECT_EQ(linear, seq->ptr(0).get());
  EXPECT_EQ(seq[0]->as<nn::Linear>(), linear);  // a holder type names its module type
  EXPECT_EQ(seq[1]->as<nn::Linear>(), nullptr);
  EXPECT_NE(seq[1]->as<nn::ReLUImpl>(), nullptr);
  const nn::Module& as_const = *seq;
  EXPECT_NE(as_const.as<nn::Sequential>(), nullptr);
  static_assert(std::is_same_v<decltype(seq[0]->as<nn::Linear>()), nn::LinearImpl*>);
  static_assert(std::is_same_v<decltype(as_const.as<nn::Sequential>()), const nn::SequentialImpl*>);
}

TEST(Module, ApplyVisitsEveryModuleInPreOrder) {
  Net net;
  std::vector<std::string> names;
  net->apply([&](nn::Module& module) { names.push_back(module.display_name()); });
  EXPECT_EQ(names.size(), 17u);
  EXPECT_EQ(names[0], "Net");
  EXPECT_EQ(names[2], "Sequential");
  EXPECT_EQ(names[3], "Linear");
  std::vector<std::string> paths;
  net->apply([&](const std::string& path, nn::Module&) { paths.push_back(path); }, "net");
  EXPECT_EQ(paths, net->named_modules("net").keys());
  // The usual use: re-initialise every layer of a kind.
  net->apply([](nn::Module& module) {
    if (auto* linear = module.as<nn::Linear>()) nn::init::zeros_(linear->weight);
  });
  for (const auto& [name, parameter] : net->named_parameters())
    if (name.find("weight") != std::string::npos) EXPECT_EQ(sum(abs(parameter)).item<double>(), 0.0) << name;
  int pointers = 0;
  net->apply([&](const std::shared_ptr<nn::Module>& module) { pointers += module != nullptr; });
  EXPECT_EQ(pointers, 17);
}

// ---- state --------------------------------------------------------------------------------------------

TEST(Module, TrainAndEvalReachEveryDescendant) {
  Net net;
  EXPECT_TRUE(net->is_training());
  net->eval();
  for (const auto& module : net->modules()) EXPECT_FALSE(module->is_training()) << module->name();
  net->train();
  for (const auto& module : net->modules()) EXPECT_TRUE(module->is_training()) << module->name();
  net->train(false);
  EXPECT_FALSE(net->seq[1]->is_training());
}

TEST(Module, ZeroGradDropsOrZeroesEveryGradient) {
  auto net = nn::Sequential(nn::Linear(2, 3), nn::Linear(3, 1));
  sum(net(ones({4, 2}))).backward();
  for (const Tensor& parameter : net->parameters()) EXPECT_TRUE(parameter.grad().defined());
  net->zero_grad(/*set_to_none=*/false);
  for (const Tensor& parameter : net->parameters()) {
    ASSERT_TRUE(parameter.grad().defined());
    EXPECT_EQ(sum(abs(parameter.grad())).item<double>(), 0.0);
  }
  net->zero_grad();
  for (const Tensor& parameter : net->parameters()) EXPECT_FALSE(parameter.grad().defined());
}

TEST(Module, ToConvertsParametersAndFloatingBuffersInPlace) {
  TwoLayer net;
  const std::vector<float> before = net->fc1->weight.to_vector<float>();
  const Tensor held = net->fc1->weight;  // e.g. by an optimiser
  net->to(kDouble);
  EXPECT_EQ(held.dtype(), kFloat64);
  const std::vector<double> after = held.to_vector<double>();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], static_cast<double>(before[i]));
  for (const Tensor& parameter : net->parameters()) EXPECT_EQ(parameter.dtype(), kFloat64);
  EXPECT_EQ(net->named_buffers()["running"].dtype(), kFloat64);
  EXPECT_EQ(net->named_buffers()["steps"].dtype(), kInt64);  // a counter stays an integer, as in PyTorch
  EXPECT_EQ(net(ones({1, 2}, kDouble)).dtype(), kFloat64);
  EXPECT_TRUE(throws_error_containing([&] { net->to(kInt64); }, {"TwoLayer", "int64"}));
  net->to(Device(kCPU));
  net->to(kCPU, kFloat);
  EXPECT_EQ(held.dtype(), kFloat32);
  EXPECT_TRUE(throws_error_containing([&] { net->to(Device(kCUDA)); }, {"Module::to", "CPU only"}));
}

// ---- printing -----------------------------------------------------------------------------------------

TEST(Module, PrintsTheTreeAsPythonsPrintModel) {
  // PyTorch's layout; booleans as libtorch prints them (true, not True).
  EXPECT_EQ(printed(Net()),
            "Net(\n"
            "  (fc1): Linear(in_features=2, out_features=8, bias=true)\n"
            "  (seq): Sequential(\n"
            "    (0): Linear(in_features=8, out_features=8, bias=true)\n"
            "    (1): ReLU()\n"
            "  )\n"
            "  (l): ModuleList(\n"
            "    (0): Linear(in_features=3, out_features=3, bias=true)\n"
            "    (1): Linear(in_features=3, out_features=3, bias=true)\n"
            "    (2): Linear(in_features=3, out_features=3, bias=true)\n"
            "    (3): Tanh()\n"
            "  )\n"
            "  (f): Flatten(start_dim=1, end_dim=-1)\n"
            "  (i): Identity()\n"
            "  (sm): Softmax(dim=1)\n"
            "  (ls): LogSoftmax(dim=1)\n"
            "  (nll): NLLLoss()\n"
            "  (ce): CrossEntropyLoss()\n"
            "  (e): Sequential()\n"
            ")");
  EXPECT_EQ(printed(nn::Linear(nn::LinearOptions(4, 1).bias(false))),
            "Linear(in_features=4, out_features=1, bias=false)");
  EXPECT_EQ(printed(*nn::Linear(2, 3)), "Linear(in_features=2, out_features=3, bias=true)");
}

// name() is libtorch's (the C++ type with its namespace, "torch::nn::LinearImpl" there);
// display_name() is what printing and errors use, as Python prints a module.
TEST(Module, NameComesFromTheTypeOrTheConstructor) {
  EXPECT_EQ(nn::Linear(1, 1)->name(), "xgrad::nn::LinearImpl");
  EXPECT_EQ(nn::Linear(1, 1)->display_name(), "Linear");
  EXPECT_EQ(Net()->display_name(), "Net");
  EXPECT_NE(Net()->name().find("NetImpl"), std::string::npos);
  struct Plain : nn::Module {};
  EXPECT_EQ(Plain().display_name(), "Plain");
  struct Named : nn::Module {
    Named() : nn::Module("Encoder") {}
  };
  EXPECT_EQ(Named().name(), "Encoder");
  EXPECT_EQ(Named().display_name(), "Encoder");
  EXPECT_EQ(printed(Named()), "Encoder()");
}

// ---- Linear ------------------------------------------------------------------------------------------------

TEST(Linear, ParametersHaveLibtorchShapesAndNames) {
  nn::Linear layer(3, 5);
  EXPECT_EQ(layer->weight.sizes(), IntArrayRef({5, 3}));
  EXPECT_EQ(layer->bias.sizes(), IntArrayRef({5}));
  EXPECT_EQ(layer->named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  for (const Tensor& parameter : layer->parameters()) {
    EXPECT_TRUE(parameter.requires_grad());
    EXPECT_TRUE(parameter.is_leaf());
    EXPECT_EQ(parameter.dtype(), kFloat32);
  }
  EXPECT_EQ(layer->weight.name(), "weight");
}

TEST(Linear, WithoutBiasHasOnlyAWeight) {
  nn::Linear layer(nn::LinearOptions(4, 2).bias(false));
  EXPECT_FALSE(layer->bias.defined());
  EXPECT_EQ(layer->named_parameters().keys(), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(layer(ones({7, 4})).sizes(), IntArrayRef({7, 2}));
}

TEST(Linear, ForwardIsInputTimesWeightTransposedPlusBias) {
  nn::Linear layer(nn::LinearOptions(3, 2).dtype(kFloat64));
  const Tensor x = tensor({{1.0, -2.0, 0.5}, {0.0, 3.0, -1.0}, {2.0, 2.0, 2.0}, {-1.0, 0.0, 4.0}}, kFloat64);
  const Tensor expected = matmul(x, transpose(layer->weight, 0, 1)) + layer->bias;
  EXPECT_TRUE(all_close(layer(x), expected, 1e-12, 1e-12));
  EXPECT_TRUE(all_close(layer->forward(x), expected, 1e-12, 1e-12));
  EXPECT_EQ(layer(tensor({1.0, 2.0, 3.0}, kFloat64)).sizes(), IntArrayRef({2}));
}

TEST(Linear, InitIsUniformWithinOneOverSqrtInFeatures) {
  manual_seed(11);
  nn::Linear layer(16, 400);
  const double bound = 1.0 / std::sqrt(16.0);
  for (const Tensor& parameter : layer->parameters()) {
    const auto values = parameter.to_vector<float>();
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    EXPECT_GE(*low, -bound);
    EXPECT_LE(*high, bound);
    // 400+ samples of a uniform distribution come close to both ends and centre near zero.
    EXPECT_LT(*low, -0.9 * bound);
    EXPECT_GT(*high, 0.9 * bound);
    double mean = 0.0;
    for (float v : values) mean += v / values.size();
    EXPECT_NEAR(mean, 0.0, 0.25 * bound);
  }
}

TEST(Linear, InitFollowsTheGlobalSeedAndResetDrawsAgain) {
  manual_seed(5);
  nn::Linear first(3, 4);
  manual_seed(5);
  nn::Linear again(3, 4);
  nn::Linear different(3, 4);
  EXPECT_EQ(first->weight.to_vector<float>(), again->weight.to_vector<float>());
  EXPECT_EQ(first->bias.to_vector<float>(), again->bias.to_vector<float>());
  EXPECT_NE(first->weight.to_vector<float>(), different->weight.to_vector<float>());
  const float* storage = first->weight.data<float>();
  first->reset_parameters();
  EXPECT_NE(first->weight.to_vector<float>(), again->weight.to_vector<float>());
  EXPECT_EQ(first->weight.data<float>(), storage);  // redrawn in place
}

TEST(Linear, GradientsPassGradcheck) {
  nn::Linear layer(nn::LinearOptions(3, 4).dtype(kFloat64));
  const Tensor x = randn({5, 3}, kFloat64).requires_grad_(true);
  // gradcheck perturbs the tensors it is given in place, so perturbing layer->weight moves the layer.
  const auto result = gradcheck([&](const std::vector<Tensor>& in) { return layer(in[0]); },
                                {x, layer->weight, layer->bias});
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(Linear, BadOptionsAndInputsAreErrors) {
  EXPECT_TRUE(throws_error_containing([] { nn::Linear(0, 3); }, {"Linear", "in_features=0"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Linear(nn::LinearOptions(2, 3).dtype(kInt64)); }, {"Linear", "int64"}));
  nn::Linear layer(3, 2);
  EXPECT_TRUE(throws_error_containing([&] { layer(ones({4, 5})); }, {"[4, 5]"}));
}

// ---- activations and losses --------------------------------------------------------------------------------

TEST(Activation, ModulesApplyTheirFunction) {
  const Tensor x = tensor({{-1.0, 0.5, 2.0}, {3.0, -0.25, 0.0}}, kFloat64);
  EXPECT_TRUE(all_close(nn::ReLU()(x), relu(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Tanh()(x), tanh(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Sigmoid()(x), sigmoid(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Softmax(nn::SoftmaxOptions(1))(x), softmax(x, 1), 0, 0));
  EXPECT_TRUE(all_close(nn::Softmax(0)(x), softmax(x, 0), 0, 0));
  EXPECT_TRUE(all_close(nn::LogSoftmax(nn::LogSoftmaxOptions(-1))(x), log_softmax(x, 1), 0, 0));
  EXPECT_TRUE(nn::ReLU()->parameters().empty());
  EXPECT_EQ(printed(nn::Sequential(nn::Tanh(), nn::Sigmoid(), nn::Softmax(1), nn::LogSoftmax(0))),
            "Sequential(\n  (0): Tanh()\n  (1): Sigmoid()\n  (2): Softmax(dim=1)\n  (3): LogSoftmax(dim=0)\n)");
  nn::Softmax softmax_module(1);
  softmax_module->options.dim(0);
  EXPECT_TRUE(all_close(softmax_module(x), softmax(x, 0), 0, 0));
}

TEST(Activation, SoftmaxDimOutOfRangeIsAnError) {
  EXPECT_TRUE(throws_error_containing([] { nn::Softmax(2)(ones({2, 3})); }, {"softmax", "[2, 3]"}));
}

namespace F = nn::functional;

TEST(LossModules, CallTheFunctionalFormWithTheirOptions) {
  const Tensor logits = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}, {0.5, -1.0, 0.0}}, kFloat64);
  const Tensor classes = tensor({2, 1, 1});
  const Tensor probabilities = sigmoid(tensor({{0.3, -0.2, 1.0}, {2.0, 0.1, -1.5}, {0.0, 0.7, 0.2}}, kFloat64));
  const auto ce = nn::CrossEntropyLossOptions().ignore_index(1).reduction(kSum).label_smoothing(0.2);
  EXPECT_TRUE(all_close(nn::CrossEntropyLoss(ce)(logits, classes), F::cross_entropy(logits, classes, ce), 0, 0));
  EXPECT_TRUE(all_close(nn::CrossEntropyLoss()(logits, classes), F::cross_entropy(logits, classes), 0, 0));
  const auto nll = nn::NLLLossOptions().weight(tensor({1.0, 2.0, 0.5}, kFloat64)).reduction(kNone);
  EXPECT_TRUE(all_close(nn::NLLLoss(nll)(logits, classes), F::nll_loss(logits, classes, nll), 0, 0));
  const auto bce = nn::BCELossOptions().reduction(kSum);
  EXPECT_TRUE(all_close(nn::BCELoss(bce)(probabilities, probabilities * 0.5),
                        F::binary_cross_entropy(probabilities, probabilities * 0.5, bce), 0, 0));
  const auto bcel = nn::BCEWithLogitsLossOptions().pos_weight(tensor({2.0, 1.0, 0.5}, kFloat64));
  EXPECT_TRUE(all_close(nn::BCEWithLogitsLoss(bcel)(logits, probabilities),
                        F::binary_cross_entropy_with_logits(logits, probabilities, bcel), 0, 0));
  const auto kl = nn::KLDivLossOptions().reduction(kBatchMean).log_target(true);
  EXPECT_TRUE(all_close(nn::KLDivLoss(kl)(log_softmax(logits, 1), log_softmax(-logits, 1)),
                        F::kl_div(log_softmax(logits, 1), log_softmax(-logits, 1), kl), 0, 0));
  const auto mse = nn::MSELossOptions().reduction(kNone);
  EXPECT_TRUE(all_close(nn::MSELoss(mse)(logits, probabilities), F::mse_loss(logits, probabilities, mse), 0, 0));
  EXPECT_TRUE(all_close(nn::MSELoss()->forward(logits, probabilities), F::mse_loss(logits, probabilities), 0, 0));
}

TEST(LossModules, OptionsCanChangeAfterConstruction) {
  nn::CrossEntropyLoss criterion;
  const Tensor logits = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}}, kFloat64);
  const Tensor target = tensor({2, 1});
  EXPECT_NEAR(criterion(logits, target).item<double>(), 1.2753, 1e-4);
  criterion->options.reduction(kSum);
  EXPECT_NEAR(criterion(logits, target).item<double>(), 2.5505, 1e-4);
}

TEST(LossModules, CannotBeAStepOfASequential) {
  auto net = nn::Sequential(nn::Linear(2, 2), nn::CrossEntropyLoss());
  EXPECT_TRUE(throws_error_containing([&] { net(ones({1, 2})); }, {"CrossEntropyLoss", "forward", "one tensor"}));
}

// ---- init -------------------------------------------------------------------------------------------------------

TEST(Init, InitialisersFillInPlaceWithinTheirBounds) {
  Tensor w = zeros({30, 20}, kFloat64);
  const double* storage = w.data<double>();
  nn::init::xavier_uniform_(w);
  const double xavier = std::sqrt(6.0 / 50.0);
  for (double v : w.to_vector<double>()) EXPECT_LE(std::abs(v), xavier);
  nn::init::kaiming_uniform_(w);
  const double kaiming = std::sqrt(6.0 / 20.0);
  double largest = 0.0;
  // A named vector: GCC 12 warns (-Wfree-nonheap-object, a false positive) on this loop over the
  // temporary once to_vector is inlined.
  const std::vector<double> kaiming_values = w.to_vector<double>();
  for (double v : kaiming_values) largest = std::max(largest, std::abs(v));
  EXPECT_LE(largest, kaiming);
  EXPECT_GT(largest, xavier);  // the wider bound is actually used
  nn::init::normal_(w, 3.0, 0.0);
  EXPECT_EQ(w.to_vector<double>().front(), 3.0);
  nn::init::ones_(w);
  EXPECT_EQ(w.to_vector<double>().back(), 1.0);
  EXPECT_EQ(w.data<double>(), storage);
  EXPECT_TRUE(throws_error_containing([] { nn::init::xavier_uniform_(zeros({5})); }, {"xavier_uniform_", "[5]"}));
  EXPECT_TRUE(throws_error_containing([] { nn::init::uniform_(zeros({5}), 1.0, 0.0); }, {"uniform_", "low 1"}));
}

}  // namespace
}  // namespace xgrad
