#pragma once
// to_html: the graph behind a tensor as one self-contained HTML page (inline SVG, CSS and script; it
// loads nothing), with a stepper that replays the backward pass in the engine's own order.
//
//   xgrad::HtmlRecorder recorder;          // from here on: forward values and backward passes
//   Tensor loss = model(x) ...;            //   are recorded on this thread
//   loss.backward();                       // a plain backward
//   recorder.write(loss, "backprop.html"); // (or xgrad::to_html(loss, "backprop.html"))
//
// Why a recorder: backward frees what the nodes saved, and no node keeps its output's values, so
// the values and gradients the page shows must be copied while the forward and the backward run.
// The graph's edges outlive backward, which is all the page needs besides those copies.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/trace.hpp>

namespace xgrad {

struct HtmlOptions {
  // The page's heading.
  XGRAD_ARG(std::string, title) = "xgrad: the backward pass";
  // Tensors with at most this many elements are shown in full; larger ones as shape, min, mean, max.
  XGRAD_ARG(std::int64_t, max_values) = 64;
};

// Records, on its thread and while alive, the output values of every op recorded and what every
// backward pass sends where (as GraphObserver). It keeps the graphs it saw alive (their structure
// and the copies it made, not the nodes' saved values) until it is destroyed: make one per step
// you want to show, not one around a whole training loop.
class HtmlRecorder final : public autograd::GraphObserver {
 public:
  explicit HtmlRecorder(HtmlOptions options = {});
  ~HtmlRecorder() override;

  // Writes the page of root's graph, replaying the last backward pass this recorder saw run
  // through root's grad_fn. When it saw none and the graph still holds its saved values (before
  // backward, or after backward(retain_graph=true)), it runs one itself, as autograd::grad does:
  // the gradients are shown, but no leaf's grad() changes. Throws Error for an undefined root, a
  // root without graph, a graph freed by a backward this recorder did not see, or an unwritable path.
  void write(const Tensor& root, const std::string& path) const;
  // The page as a string, as write() would save it.
  std::string html(const Tensor& root) const;

  void recorded(const std::shared_ptr<Node>& node, const Tensor& output) override;
  void backward_begins(bool accumulates) override;
  void ran(const std::shared_ptr<Node>& node, const Tensor& grad_output,
           const gradient_list& grad_inputs) override;

  // What the recorder keeps of one tensor: its shape and dtype, and its elements (when it has at
  // most max_values) or its min, mean and max. NaN and infinities are kept and counted.
  struct Values {
    Shape shape;
    std::string dtype;
    bool full = false;
    std::vector<double> elements;  // every element when full
    double min = 0, mean = 0, max = 0;
    std::int64_t nan_count = 0, inf_count = 0;
  };
  struct Step {
    std::shared_ptr<Node> node;
    bool has_grad_output = false;
    Values grad_output;
    std::vector<bool> has_grad_input;
    std::vector<Values> grad_inputs;
  };

 private:
  friend void to_html(const Tensor& root, const std::string& path, HtmlOptions options);
  static Values capture(const Tensor& tensor, std::int64_t max_values);
  // Whether a pass this recorder saw ran `node`.
  bool saw(const Node* node) const;
  std::string page(const Tensor& root, const HtmlOptions& options) const;
  HtmlOptions options_;
  std::unordered_map<const Node*, std::pair<std::shared_ptr<Node>, Values>> outputs_;
  std::vector<std::vector<Step>> passes_;
};

// The page of root's graph at `path`. Uses the innermost HtmlRecorder alive on this thread that saw
// a backward pass through root's graph (its copies were made with its own max_values; `options`
// give the title and the size limit of what is copied now); otherwise runs a backward pass itself as
// HtmlRecorder::write does (leaving every grad() unchanged), which needs the graph's saved values:
// after a plain backward() without a recorder it throws Error saying so.
void to_html(const Tensor& root, const std::string& path, HtmlOptions options = {});

}  // namespace xgrad
