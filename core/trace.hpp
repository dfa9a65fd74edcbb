#pragma once
// Watching the graph being built and walked, for teaching and debugging.
//
//   {
//     xgrad::autograd::TraceGuard trace(std::cout);   // this thread's backward passes are printed
//     loss.backward();
//   }
//   [backward] MeanBackward0  grad_output [] {-1}  ->  [2]
//   [backward] ...
//
// TraceGuard and HtmlRecorder (core/html.hpp) are both GraphObservers: objects that, while alive,
// are told about every node recorded and every node the engine runs on their thread.
#include <iosfwd>
#include <memory>
#include <vector>

#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::autograd {

// Base of the observers. Constructing one installs it as its thread's innermost observer; its
// destructor removes it. Several may be alive at once: each is told, innermost first.
//
// The engine and record() test one thread-local pointer per node and call nothing when no observer
// is alive, so a program that never makes one pays a load and a branch per node.
class GraphObserver {
 public:
  GraphObserver();
  virtual ~GraphObserver();
  GraphObserver(const GraphObserver&) = delete;
  GraphObserver& operator=(const GraphObserver&) = delete;

  // An op recorded `node` as the grad_fn of `output` (record(), and custom Functions' apply).
  virtual void recorded(const std::shared_ptr<Node>& /*node*/, const Tensor& /*output*/) {}
  // Engine::execute is about to run a backward pass (one call per Tensor::backward or
  // autograd::grad; a backward started inside a hook is a pass of its own). `accumulates` is false
  // for autograd::grad, whose AccumulateGrad nodes are reached but leave grad() alone.
  virtual void backward_begins(bool /*accumulates*/) {}
  // The engine ran `node`: `grad_output` is the gradient of its output, summed over its consumers
  // and after its tensor's hooks; `grad_inputs` has one entry per next edge (undefined where an input
  // needs no gradient). Both are empty or undefined for a node that received no gradient, and
  // `grad_inputs` is empty for AccumulateGrad, which writes into leaf.grad() instead.
  virtual void ran(const std::shared_ptr<Node>& /*node*/, const Tensor& /*grad_output*/,
                   const gradient_list& /*grad_inputs*/) {}

  // The next observer outward, or null: to_html looks for a live HtmlRecorder this way.
  GraphObserver* outer() const { return outer_; }
  // This thread's innermost observer, or null.
  static GraphObserver* innermost();

 private:
  GraphObserver* outer_ = nullptr;
};

// While alive, prints one line per node to `out` as the engine runs it, for every backward pass on
// this thread: the node's name (and a leaf's name), the incoming gradient's shape and first few
// values, and the shape of each gradient it sends to its inputs ("-" for an input that needs none).
// The lines come in the engine's order: a node only after every consumer of its output.
class TraceGuard final : public GraphObserver {
 public:
  explicit TraceGuard(std::ostream& out, int values_shown = 4);
  void backward_begins(bool accumulates) override { accumulates_ = accumulates; }
  void ran(const std::shared_ptr<Node>& node, const Tensor& grad_output, const gradient_list& grad_inputs) override;

 private:
  std::ostream& out_;
  int values_shown_;
  bool accumulates_ = true;
};

namespace detail {
// The innermost observer of this thread: tested by the engine and by record() before every call.
extern thread_local GraphObserver* innermost_observer;
void notify_recorded(const std::shared_ptr<Node>& node, const Tensor& output);
void notify_backward_begins(bool accumulates);
void notify_ran(const std::shared_ptr<Node>& node, const Tensor& grad_output, const gradient_list& grad_inputs);
}  // namespace detail

}  // namespace xgrad::autograd
