#include <xgrad/core/autograd.hpp>

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include <xgrad/core/engine.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/core/trace.hpp>

namespace xgrad::autograd {

variable_list grad(const variable_list& outputs, const variable_list& inputs, const variable_list& grad_outputs,
                   std::optional<bool> retain_graph, bool create_graph, bool allow_unused) {
  if (outputs.empty()) throw Error("grad: outputs is empty");
  if (inputs.empty()) throw Error("grad: grad requires non-empty inputs.");
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    throw Error(concat("grad: got ", grad_outputs.size(), " grad_outputs for ", outputs.size(), " outputs"));
  std::vector<Engine::Root> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& output = outputs[i];
    if (!output.defined() || !output.requires_grad())
      throw Error(concat("grad: output ", i, " does not require grad and has no grad_fn"));
    Tensor seed = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!seed.defined()) {
      if (output.numel() != 1)
        throw Error(concat("grad: grad can be implicitly created only for scalar outputs (output ", i,
                           " has shape ", shape_str(output.shape()), ")"));
      seed = ones(output.sizes(), output.dtype());
    }
    if (!has_shape(seed, output.shape()) || seed.dtype() != output.dtype())
      throw Error(concat("grad: grad_outputs[", i, "] has shape ", shape_str(seed.shape()), " (",
                         dtype_name(seed.dtype()), ") but output ", i, " has shape ", shape_str(output.shape()), " (",
                         dtype_name(output.dtype()), ")"));
    roots.push_back({gradient_edge(output), std::move(seed)});
  }
  std::vector<std::shared_ptr<Node>> input_nodes;  // keeps an input's AccumulateGrad alive for the pass
  std::vector<const Node*> capture;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad())
      throw Error(concat("grad: input ", i, " does not require grad"));
    input_nodes.push_back(gradient_edge(inputs[i]));
    capture.push_back(input_nodes.back().get());
  }
  Engine::Options options;
  options.keep_graph = retain_graph.value_or(create_graph);
  options.create_graph = create_graph;
  options.accumulate_grad = false;
  variable_list result = Engine::execute(roots, options, capture);
  for (std::size_t i = 0; i < result.size(); ++i)
    if (!result[i].defined() && !allow_unused)
      throw Error(concat("grad: One of the differentiated Tensors appears to not have been used in the graph. Set "
                         "allow_unused=True if this is the desired behavior. (input ", i, ", shape ",
                         shape_str(inputs[i].shape()), ")"));
  return result;
}

const char* IValue::kind() const {
  static const char* const names[] = {"None", "a double", "an int", "a bool", "a Tensor", "a string"};
  return names[value_.index()];
}

double IValue::toDouble() const {
  if (isDouble()) return std::get<double>(value_);
  if (isInt()) return static_cast<double>(std::get<std::int64_t>(value_));
  throw Error(concat("IValue::toDouble: the value is ", kind()));
}

std::int64_t IValue::toInt() const {
  if (isInt()) return std::get<std::int64_t>(value_);
  throw Error(concat("IValue::toInt: the value is ", kind()));
}

bool IValue::toBool() const {
  if (isBool()) return std::get<bool>(value_);
  throw Error(concat("IValue::toBool: the value is ", kind()));
}

Tensor IValue::toTensor() const {
  if (isTensor()) return std::get<Tensor>(value_);
  throw Error(concat("IValue::toTensor: the value is ", kind()));
}

const std::string& IValue::toStringRef() const {
  if (isString()) return std::get<std::string>(value_);
  throw Error(concat("IValue::toStringRef: the value is ", kind()));
}

void AutogradContext::save_for_backward(variable_list to_save) { to_save_ = std::move(to_save); }

variable_list AutogradContext::get_saved_variables() const {
  if (released_)
    throw Error("get_saved_variables: the saved tensors were freed by an earlier backward; pass retain_graph=true to "
                "the first backward to backward twice");
  variable_list result;
  result.reserve(saved_.size());
  for (const SavedTensor& saved : saved_) result.push_back(saved.unpack(*node_));
  return result;
}

void AutogradContext::mark_non_differentiable(const variable_list& outputs) {
  for (const Tensor& output : outputs)
    if (output.defined()) non_differentiable_.push_back(output.impl());
}

bool AutogradContext::needs_input_grad(std::size_t index) const {
  if (index >= needs_input_grad_.size())
    throw Error(concat("needs_input_grad: index ", index, " out of range for a forward of ", needs_input_grad_.size(),
                       " arguments"));
  return needs_input_grad_[index];
}

bool AutogradContext::Internal::is_non_differentiable(const AutogradContext& ctx, const Tensor& output) {
  for (const TensorImpl* impl : ctx.non_differentiable_)
    if (impl == output.impl()) return true;
  return false;
}

void AutogradContext::Internal::save_variables(AutogradContext& ctx, Node& node, const Tensor& output) {
  ctx.node_ = &node;
  ctx.saved_.clear();
  for (const Tensor& tensor : ctx.to_save_)
    ctx.saved_.emplace_back(tensor, /*is_output=*/tensor.defined() && tensor.impl() == output.impl());
  ctx.to_save_.clear();
}

void AutogradContext::Internal::release(AutogradContext& ctx) {
  ctx.saved_.clear();
  ctx.saved_data.clear();
  ctx.released_ = true;
}

namespace detail {

std::string readable_type_name(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = status == 0 && demangled ? demangled.get() : mangled;
  const std::size_t scope = name.rfind("::");
  return scope == std::string::npos ? name : name.substr(scope + 2);
}

void attach_custom_node(Tensor& output, const std::shared_ptr<Node>& node, const std::vector<const Tensor*>& inputs) {
  edge_list edges;
  for (const Tensor* input : inputs) edges.push_back({input->defined() ? gradient_edge(*input) : nullptr, 0});
  node->set_next_edges(std::move(edges));
  copy_shape(output, node->output_shape);
  node->output_dtype = output.dtype();
  if (AnomalyMode::is_enabled())
    node->set_creation_context(concat("the custom Function ", node->name(), " on ", inputs.size(), " tensor inputs"));
  output.impl()->grad_fn = node;
  output.impl()->requires_grad = true;
  if (detail::innermost_observer) detail::notify_recorded(node, output);
}

}  // namespace detail

}  // namespace xgrad::autograd
