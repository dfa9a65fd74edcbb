#include <xgrad/core/trace.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

#include <xgrad/core/error.hpp>
#include <xgrad/core/node.hpp>

namespace xgrad::autograd {

namespace detail {

thread_local GraphObserver* innermost_observer = nullptr;

// Each observer is told in turn, innermost first. An observer's callback must not destroy
// observers, so the chain cannot change under the loop.
void notify_recorded(const std::shared_ptr<Node>& node, const Tensor& output) {
  for (GraphObserver* observer = innermost_observer; observer; observer = observer->outer())
    observer->recorded(node, output);
}

void notify_backward_begins(bool accumulates) {
  for (GraphObserver* observer = innermost_observer; observer; observer = observer->outer())
    observer->backward_begins(accumulates);
}

void notify_ran(const std::shared_ptr<Node>& node, const Tensor& grad_output, const gradient_list& grad_inputs) {
  for (GraphObserver* observer = innermost_observer; observer; observer = observer->outer())
    observer->ran(node, grad_output, grad_inputs);
}

}  // namespace detail

GraphObserver::GraphObserver() : outer_(detail::innermost_observer) { detail::innermost_observer = this; }

GraphObserver::~GraphObserver() {
  // Usually the innermost (scoped guards end in reverse order), but an observer kept in a
  // container may end earlier: unlink it wherever it is.
  GraphObserver** link = &detail::innermost_observer;
  while (*link && *link != this) link = &(*link)->outer_;
  if (*link) *link = outer_;
}

GraphObserver* GraphObserver::innermost() { return detail::innermost_observer; }

namespace {

std::string number_str(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

// "[2, 3] {0.1, 0.2, 0.3, ...}": the shape and the first few elements in row-major order.
std::string gradient_str(const Tensor& grad, int values_shown) {
  if (!grad.defined()) return "-";
  std::string text = shape_str(grad.shape());
  if (values_shown <= 0) return text;
  const std::vector<double> values = grad.detach().to(kFloat64).to_vector<double>();
  text += " {";
  const std::size_t shown = std::min(values.size(), static_cast<std::size_t>(values_shown));
  for (std::size_t i = 0; i < shown; ++i) text += (i ? ", " : "") + number_str(values[i]);
  if (shown < values.size()) text += ", ...";
  return text + "}";
}

}  // namespace

TraceGuard::TraceGuard(std::ostream& out, int values_shown) : out_(out), values_shown_(values_shown) {}

void TraceGuard::ran(const std::shared_ptr<Node>& node, const Tensor& grad_output,
                     const gradient_list& grad_inputs) {
  std::string line = concat("[backward] ", node->name());
  if (const auto* sink = dynamic_cast<const AccumulateGrad*>(node.get())) {
    const Tensor& leaf = sink->leaf();
    line += concat(" (leaf", leaf.name().empty() ? "" : " " + leaf.name(), ")  grad ",
                   gradient_str(grad_output, values_shown_), "  ->  ",
                   accumulates_ ? (leaf.name().empty() ? "leaf" : leaf.name()) + ".grad()"
                                : std::string("returned by autograd::grad (grad() unchanged)"),
                   "\n");
  } else {
    line += concat("  grad_output ", gradient_str(grad_output, values_shown_), "  ->  ");
    if (node->next_edges().empty()) line += "(no inputs)";
    for (std::size_t i = 0; i < node->next_edges().size(); ++i)
      line += concat(i ? ", " : "", i < grad_inputs.size() ? gradient_str(grad_inputs[i], 0) : std::string("-"));
    line += '\n';
  }
  // One write per line, so two threads' traces into one stream interleave by lines at worst.
  out_ << line << std::flush;
}

}  // namespace xgrad::autograd
