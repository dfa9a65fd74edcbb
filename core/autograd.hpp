#pragma once
// torch::autograd for teaching: gradients without touching grad(), custom ops with a hand-written
// backward, and anomaly detection.
//
//   auto grads = xgrad::autograd::grad({loss}, {w}, {}, /*retain_graph=*/true, /*create_graph=*/true);
//   Tensor hvp = xgrad::autograd::grad({(grads[0] * v).sum()}, {w})[0];   // Hessian-vector product
//
//   struct Cube : xgrad::autograd::Function<Cube> {
//     static Tensor forward(AutogradContext* ctx, Tensor x) { ctx->save_for_backward({x}); return x * x * x; }
//     static variable_list backward(AutogradContext* ctx, variable_list grads) {
//       Tensor x = ctx->get_saved_variables()[0];
//       return {grads[0] * 3 * x * x};                         // one gradient per forward argument
//     }
//   };
//   Tensor y = Cube::apply(x);
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <xgrad/core/anomaly_mode.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::autograd {

using variable_list = std::vector<Tensor>;
// libtorch's older name for a tensor that takes part in autograd; every Tensor does.
using Variable = Tensor;
using tensor_list = variable_list;

// The gradients of the sum of outputs[i] * grad_outputs[i] with respect to each input, returned
// instead of accumulated into grad(). grad_outputs may be omitted for outputs of one element
// (seeded with 1). retain_graph defaults to create_graph; with create_graph the returned gradients
// carry a graph and can be differentiated again. An input the outputs do not depend on is an Error
// unless allow_unused, which gives an undefined Tensor for it.
variable_list grad(const variable_list& outputs, const variable_list& inputs, const variable_list& grad_outputs = {},
                   std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                   bool allow_unused = false);

// A value kept across forward and backward in AutogradContext::saved_data, as libtorch's IValue:
// a double, an integer, a bool, a string or a Tensor.
class IValue {
 public:
  IValue() = default;
  IValue(double value) : value_(value) {}
  IValue(bool value) : value_(value) {}
  template <class I, std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>, int> = 0>
  IValue(I value) : value_(static_cast<std::int64_t>(value)) {}
  IValue(Tensor value) : value_(std::move(value)) {}
  IValue(std::string value) : value_(std::move(value)) {}
  IValue(const char* value) : value_(std::string(value)) {}

  bool isDouble() const { return std::holds_alternative<double>(value_); }
  bool isInt() const { return std::holds_alternative<std::int64_t>(value_); }
  bool isBool() const { return std::holds_alternative<bool>(value_); }
  bool isTensor() const { return std::holds_alternative<Tensor>(value_); }
  bool isString() const { return std::holds_alternative<std::string>(value_); }
  bool isNone() const { return std::holds_alternative<std::monostate>(value_); }
  // Each throws Error naming what the value holds when it holds something else (an integer also
  // reads as a double, as in libtorch).
  double toDouble() const;
  std::int64_t toInt() const;
  bool toBool() const;
  Tensor toTensor() const;
  const std::string& toStringRef() const;

 private:
  const char* kind() const;
  std::variant<std::monostate, double, std::int64_t, bool, Tensor, std::string> value_;
};

// What a custom Function's forward leaves for its backward, as torch::autograd::AutogradContext.
class AutogradContext {
 public:
  // Tensors the backward needs. They are kept as SavedTensors once forward has returned (an output
  // among them is then known as such), and their versions are checked when they are read back.
  void save_for_backward(variable_list to_save);
  // The saved tensors. Throws Error if one was modified in place since it was saved, or if the
  // graph was already freed by a backward without retain_graph.
  variable_list get_saved_variables() const;
  // Outputs that are not differentiable (indices, masks): they get no grad_fn.
  void mark_non_differentiable(const variable_list& outputs);
  // Whether forward argument `index` (counting every argument, tensor or not) needs a gradient.
  bool needs_input_grad(std::size_t index) const;

  std::unordered_map<std::string, IValue> saved_data;

  // Used by Function<T>::apply; not part of libtorch's interface.
  struct Internal;

 private:
  friend struct Internal;
  variable_list to_save_;
  std::vector<SavedTensor> saved_;
  Node* node_ = nullptr;  // the node that owns this context, which unpacks the saved tensors
  std::vector<const TensorImpl*> non_differentiable_;
  std::vector<bool> needs_input_grad_;
  bool released_ = false;
};

struct AutogradContext::Internal {
  static void set_needs_input_grad(AutogradContext& ctx, std::vector<bool> needs) {
    ctx.needs_input_grad_ = std::move(needs);
  }
  static bool is_non_differentiable(const AutogradContext& ctx, const Tensor& output);
  // Turns what forward asked to save into SavedTensors of `node`, knowing which one is the output.
  static void save_variables(AutogradContext& ctx, Node& node, const Tensor& output);
  static void release(AutogradContext& ctx);
};

namespace detail {

// "Cube" for struct Cube: the name custom nodes are shown with ("CubeBackward", as in Python).
std::string readable_type_name(const char* mangled);

// The node of one call of a custom Function: it owns the context and calls T::backward.
template <class T>
class CustomFunctionNode final : public Node {
 public:
  CustomFunctionNode() : name_(readable_type_name(typeid(T).name()) + "Backward") {}
  const char* name() const override { return name_.c_str(); }
  // One line whatever the number of inputs: the derivative is the user's code.
  const char* formula() const override { return "a custom Function: the gradients are what its backward() returns"; }

  gradient_list backward(const Tensor& grad_output) override {
    variable_list grads = T::backward(&ctx, variable_list{grad_output});
    const std::size_t arguments = argument_is_tensor.size();
    // As libtorch: extra gradients are dropped when all of them are undefined (a forward with a
    // defaulted trailing argument, whose backward returns one gradient per declared parameter).
    if (grads.size() > arguments &&
        std::none_of(grads.begin() + arguments, grads.end(), [](const Tensor& g) { return g.defined(); }))
      grads.resize(arguments);
    if (grads.size() != arguments)
      throw Error(concat("function ", name_, " returned an incorrect number of gradients (expected ", arguments,
                         ", got ", grads.size(), "): return one per forward argument, an undefined Tensor for "
                                                 "those without a gradient"));
    gradient_list per_tensor_input;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (argument_is_tensor[i]) per_tensor_input.push_back(std::move(grads[i]));
      else if (grads[i].defined())
        throw Error(concat("function ", name_, " returned a gradient different that is defined at position ", i + 1,
                           ", but the corresponding forward input was not a Variable (argument ", i,
                           " is not a tensor)"));
    }
    return per_tensor_input;
  }

  AutogradContext ctx;
  std::vector<bool> argument_is_tensor;

 protected:
  void release_saved() override { AutogradContext::Internal::release(ctx); }

 private:
  std::string name_;
};

template <class A>
constexpr bool is_tensor_argument_v = std::is_same_v<std::decay_t<A>, Tensor>;

template <class A>
const Tensor* tensor_or_null(const A& argument) {
  if constexpr (is_tensor_argument_v<A>) return &argument;
  else return nullptr;
}

// Attaches the custom node to the forward's output, wired to the tensor arguments.
void attach_custom_node(Tensor& output, const std::shared_ptr<Node>& node, const std::vector<const Tensor*>& inputs);

}  // namespace detail

// The base of a custom op, as torch::autograd::Function<T>: T defines
//   static Tensor forward(AutogradContext* ctx, <arguments>...)
//   static variable_list backward(AutogradContext* ctx, variable_list grad_outputs)
// and is called as T::apply(<arguments>...). forward runs with grad mode off (its ops are not
// recorded); backward returns one gradient per forward argument, undefined for arguments that are
// not tensors or need none. gradcheck works on it like on any other op.
template <class T>
struct Function {
  template <class... Args>
  static Tensor apply(Args&&... args) {
    using Result = decltype(T::forward(std::declval<AutogradContext*>(), std::forward<Args>(args)...));
    static_assert(std::is_same_v<std::decay_t<Result>, Tensor>,
                  "xgrad custom Functions return one Tensor from forward");
    auto node = make_node<detail::CustomFunctionNode<T>>();
    const std::vector<const Tensor*> arguments{detail::tensor_or_null(args)...};
    std::vector<const Tensor*> inputs;
    std::vector<bool> needs;
    bool any = false;
    for (const Tensor* argument : arguments) {
      node->argument_is_tensor.push_back(argument != nullptr);
      if (argument) inputs.push_back(argument);
      const bool requires = argument && argument->defined() && argument->requires_grad() && GradMode::is_enabled();
      needs.push_back(requires);
      any = any || requires;
    }
    AutogradContext::Internal::set_needs_input_grad(node->ctx, std::move(needs));
    Tensor output;
    {
      NoGradGuard no_grad;
      output = T::forward(&node->ctx, std::forward<Args>(args)...);
    }
    if (!output.defined()) throw Error(concat(node->name(), ": forward returned an undefined tensor"));
    // An output that is one of the arguments gets a handle of its own, so the argument keeps its history.
    for (const Tensor* input : inputs)
      if (input->defined() && input->impl() == output.impl()) output = output.detach();
    AutogradContext::Internal::save_variables(node->ctx, *node, output);
    if (any && !AutogradContext::Internal::is_non_differentiable(node->ctx, output))
      detail::attach_custom_node(output, node, inputs);
    return output;
  }
};

}  // namespace xgrad::autograd
