// einsum as view ops, sums and batched matrix products: each operand first takes the diagonals
// its repeated letters name and sums the letters nobody else needs, then operands are contracted
// left to right, a pair at a time, as one matmul of [batch, left, contracted] by
// [batch, contracted, right]. Every step is a recorded op, so einsum has their gradients and
// double backward without a node of its own.
#include <xgrad/ops/einsum.hpp>

#include <algorithm>
#include <functional>
#include <optional>

#include <xgrad/core/error.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/view.hpp>

namespace xgrad {

namespace {

// Letters are labels 0-51 (capitals first, so an implicit output sorts them first); the ellipsis
// dims get labels from kLetters on, right-aligned across operands.
constexpr int kLetters = 52;
constexpr int kEllipsis = -1;

int label_of(char c) { return c >= 'A' && c <= 'Z' ? c - 'A' : c - 'a' + 26; }
char letter_of(int label) { return static_cast<char>(label < 26 ? 'A' + label : 'a' + label - 26); }
bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

// One side's subscripts: labels, with kEllipsis where "..." stood. `who` names it in errors.
struct Term {
  std::vector<int> labels;
  bool has_ellipsis = false;
  std::size_t letters() const { return labels.size() - (has_ellipsis ? 1 : 0); }
};

Term parse_term(const std::string& equation, std::size_t begin, std::size_t end, const std::string& who) {
  Term term;
  for (std::size_t i = begin; i < end; ++i) {
    const char c = equation[i];
    if (c == ' ') continue;
    if (c == '.') {
      if (term.has_ellipsis)
        throw Error(concat("einsum(): found '.' for ", who, " for which an ellipsis was already found (equation \"",
                           equation, "\")"));
      if (i + 2 >= end || equation[i + 1] != '.' || equation[i + 2] != '.')
        throw Error(concat("einsum(): found '.' for ", who, " that is not part of any ellipsis (equation \"", equation,
                           "\")"));
      term.has_ellipsis = true;
      term.labels.push_back(kEllipsis);
      i += 2;
      continue;
    }
    if (!is_letter(c))
      throw Error(concat("einsum(): invalid subscript given at index ", i, " in the equation string, subscripts must be "
                         "in [a-zA-Z] (equation \"", equation, "\")"));
    term.labels.push_back(label_of(c));
  }
  return term;
}

struct Equation {
  std::vector<Term> inputs;
  std::optional<Term> output;  // none: implicit
};

Equation parse_equation(const std::string& equation, std::size_t operands) {
  Equation parsed;
  const std::size_t arrow = equation.find("->");
  const std::size_t lhs_end = arrow == std::string::npos ? equation.size() : arrow;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = std::min(equation.find(',', begin), lhs_end);
    const std::size_t index = parsed.inputs.size();
    parsed.inputs.push_back(parse_term(equation, begin, comma, concat("operand ", index)));
    if (comma >= lhs_end) break;
    begin = comma + 1;
  }
  if (arrow != std::string::npos) parsed.output = parse_term(equation, arrow + 2, equation.size(), "output");
  if (parsed.inputs.size() > operands)
    throw Error(concat("einsum(): fewer operands were provided than specified in the equation (equation \"", equation,
                       "\", ", operands, " operands)"));
  if (parsed.inputs.size() < operands)
    throw Error(concat("einsum(): more operands were provided than specified in the equation (equation \"", equation,
                       "\", ", operands, " operands)"));
  return parsed;
}

// A tensor with one label per dim.
struct Operand {
  Tensor tensor;
  std::vector<int> labels;
  bool has(int label) const { return std::find(labels.begin(), labels.end(), label) != labels.end(); }
};

// The term's labels with its ellipsis spelled out as the last `dims` of the `widest` ellipsis labels.
std::vector<int> expanded_labels(const Term& term, std::size_t dims, std::size_t widest) {
  std::vector<int> labels;
  for (int label : term.labels) {
    if (label != kEllipsis) {
      labels.push_back(label);
      continue;
    }
    for (std::size_t j = 0; j < dims; ++j) labels.push_back(kLetters + static_cast<int>(widest - dims + j));
  }
  return labels;
}

// The number of dims each operand's ellipsis covers, checked against its subscripts.
std::vector<std::size_t> ellipsis_dims(const Equation& eq, const std::vector<Tensor>& tensors) {
  std::vector<std::size_t> dims;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Term& term = eq.inputs[i];
    const auto rank = static_cast<std::size_t>(tensors[i].dim());
    if (!term.has_ellipsis && term.letters() != rank)
      throw Error(concat("einsum(): the number of subscripts in the equation (", term.letters(),
                         ") does not match the number of dimensions (", rank, ") for operand ", i,
                         " and no ellipsis was given (shape ", shape_str(tensors[i].shape()), ")"));
    if (term.has_ellipsis && term.letters() > rank)
      throw Error(concat("einsum(): the number of subscripts in the equation (", term.letters(),
                         ") is more than the number of dimensions (", rank, ") for operand ", i, " (shape ",
                         shape_str(tensors[i].shape()), ")"));
    dims.push_back(term.has_ellipsis ? rank - term.letters() : 0);
  }
  return dims;
}

std::string label_name(int label) {
  return label < kLetters ? std::string(1, letter_of(label)) : concat("dimension ", label - kLetters, " of the ellipsis");
}

// Each label's size: equal within an operand, equal or 1 across operands (1 broadcasts).
std::vector<std::int64_t> label_sizes(const std::vector<Operand>& operands, int labels) {
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(labels), -1);
  for (std::size_t i = 0; i < operands.size(); ++i) {
    std::vector<std::int64_t> own(static_cast<std::size_t>(labels), -1);
    for (std::size_t d = 0; d < operands[i].labels.size(); ++d) {
      const auto label = static_cast<std::size_t>(operands[i].labels[d]);
      const std::int64_t size = operands[i].tensor.size(static_cast<std::int64_t>(d));
      if (own[label] != -1 && own[label] != size)
        throw Error(concat("einsum(): subscript ", label_name(operands[i].labels[d]), " is repeated for operand ", i,
                           " but the sizes don't match, ", size, " != ", own[label]));
      own[label] = size;
      if (sizes[label] == -1 || sizes[label] == 1) {
        sizes[label] = size == 1 && sizes[label] != -1 ? sizes[label] : size;
      } else if (size != 1 && size != sizes[label]) {
        throw Error(concat("einsum(): subscript ", label_name(operands[i].labels[d]), " has size ", size,
                           " for operand ", i, " which does not broadcast with previously seen size ", sizes[label]));
      }
    }
  }
  return sizes;
}

// The output's labels: as written, or the ellipsis then the letters used once, in label order.
std::vector<int> output_labels(const Equation& eq, std::size_t widest) {
  std::vector<int> counts(kLetters, 0);
  for (const Term& term : eq.inputs)
    for (int label : term.labels)
      if (label != kEllipsis) ++counts[static_cast<std::size_t>(label)];
  if (!eq.output) {
    std::vector<int> labels;
    for (std::size_t j = 0; j < widest; ++j) labels.push_back(kLetters + static_cast<int>(j));
    for (int label = 0; label < kLetters; ++label)
      if (counts[static_cast<std::size_t>(label)] == 1) labels.push_back(label);
    return labels;
  }
  std::vector<bool> seen(kLetters, false);
  for (int label : eq.output->labels) {
    if (label == kEllipsis) continue;
    if (counts[static_cast<std::size_t>(label)] == 0)
      throw Error(concat("einsum(): output subscript ", letter_of(label),
                         " does not appear in the equation for any input operand"));
    if (seen[static_cast<std::size_t>(label)])
      throw Error(concat("einsum(): output subscript ", letter_of(label), " appears more than once in the output"));
    seen[static_cast<std::size_t>(label)] = true;
  }
  return expanded_labels(*eq.output, widest, widest);
}

// The diagonal of every label an operand repeats ("ii->i"): the two dims become one, last.
Operand take_diagonals(Operand op) {
  for (;;) {
    std::size_t p = 0, q = 0;
    for (std::size_t i = 0; i < op.labels.size() && q == 0; ++i)
      for (std::size_t j = i + 1; j < op.labels.size(); ++j)
        if (op.labels[i] == op.labels[j]) {
          p = i;
          q = j;
          break;
        }
    if (q == 0) return op;
    const int label = op.labels[p];
    op.tensor = diagonal(op.tensor, 0, static_cast<std::int64_t>(p), static_cast<std::int64_t>(q));
    op.labels.erase(op.labels.begin() + static_cast<std::ptrdiff_t>(q));
    op.labels.erase(op.labels.begin() + static_cast<std::ptrdiff_t>(p));
    op.labels.push_back(label);
  }
}

// The operand summed over every label `needed` says no: nothing later reads it.
Operand sum_unneeded(Operand op, const std::function<bool(int)>& needed) {
  for (std::size_t d = op.labels.size(); d-- > 0;) {
    if (needed(op.labels[d])) continue;
    op.tensor = sum(op.tensor, static_cast<std::int64_t>(d));
    op.labels.erase(op.labels.begin() + static_cast<std::ptrdiff_t>(d));
  }
  return op;
}

// The operand's dims in the order of `labels`, each broadcast to its label's size, merged into
// one dim per group: groups are runs of `labels` with the lengths in `group_sizes`.
Tensor arranged(const Operand& op, const std::vector<int>& labels, const std::vector<std::int64_t>& sizes,
                const std::vector<std::size_t>& group_sizes) {
  std::vector<std::int64_t> order, expanded;
  for (int label : op.labels) expanded.push_back(sizes[static_cast<std::size_t>(label)]);
  for (int label : labels)
    order.push_back(std::find(op.labels.begin(), op.labels.end(), label) - op.labels.begin());
  const Tensor permuted = op.tensor.expand(expanded).permute(order);
  std::vector<std::int64_t> merged;
  std::size_t at = 0;
  for (std::size_t length : group_sizes) {
    std::int64_t product = 1;
    for (std::size_t k = 0; k < length; ++k) product *= sizes[static_cast<std::size_t>(labels[at++])];
    merged.push_back(product);
  }
  return reshape(permuted, merged);
}

// a and b contracted over the labels they share that `keep` does not need; the result's labels are
// the kept shared ones (batch), then a's own, then b's own.
Operand contract(Operand a, Operand b, const std::vector<bool>& keep, const std::vector<std::int64_t>& sizes) {
  const auto kept = [&](int label) { return keep[static_cast<std::size_t>(label)]; };
  a = sum_unneeded(std::move(a), [&](int label) { return kept(label) || b.has(label); });
  b = sum_unneeded(std::move(b), [&](int label) { return kept(label) || a.has(label); });
  std::vector<int> batch, left, contracted, right;
  for (int label : a.labels) {
    if (!b.has(label)) left.push_back(label);
    else if (kept(label)) batch.push_back(label);
    else contracted.push_back(label);
  }
  for (int label : b.labels)
    if (!a.has(label)) right.push_back(label);

  std::vector<int> a_order = batch, b_order = batch;
  a_order.insert(a_order.end(), left.begin(), left.end());
  a_order.insert(a_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), contracted.begin(), contracted.end());
  b_order.insert(b_order.end(), right.begin(), right.end());
  const Tensor a3 = arranged(a, a_order, sizes, {batch.size(), left.size(), contracted.size()});
  const Tensor b3 = arranged(b, b_order, sizes, {batch.size(), contracted.size(), right.size()});
  // matmul is floating only; an integer einsum multiplies and sums instead.
  const Tensor product = is_floating(a3.dtype()) ? matmul(a3, b3) : sum(a3.unsqueeze(3) * b3.unsqueeze(1), 2);

  Operand out;
  out.labels = batch;
  out.labels.insert(out.labels.end(), left.begin(), left.end());
  out.labels.insert(out.labels.end(), right.begin(), right.end());
  std::vector<std::int64_t> shape;
  for (int label : out.labels) shape.push_back(sizes[static_cast<std::size_t>(label)]);
  out.tensor = reshape(product, shape);
  return out;
}

void check_operands(const std::vector<Tensor>& tensors) {
  if (tensors.empty()) throw Error("einsum(): must specify the equation string and at least one operand");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check(tensors[i].defined(), "einsum(): operand ", i, " is an undefined tensor");
    if (tensors[i].dtype() != tensors[0].dtype())
      throw Error(concat("einsum(): operands must have one dtype, got ", dtype_name(tensors[0].dtype()),
                         " for operand 0 and ", dtype_name(tensors[i].dtype()), " for operand ", i));
  }
}

}  // namespace

Tensor einsum(const std::string& equation, const std::vector<Tensor>& tensors) {
  check_operands(tensors);
  const Equation eq = parse_equation(equation, tensors.size());
  const std::vector<std::size_t> ellipses = ellipsis_dims(eq, tensors);
  const std::size_t widest = *std::max_element(ellipses.begin(), ellipses.end());
  const int labels = kLetters + static_cast<int>(widest);

  std::vector<Operand> operands;
  for (std::size_t i = 0; i < tensors.size(); ++i)
    operands.push_back({tensors[i], expanded_labels(eq.inputs[i], ellipses[i], widest)});
  const std::vector<std::int64_t> sizes = label_sizes(operands, labels);
  const std::vector<int> out_labels = output_labels(eq, widest);
  for (Operand& op : operands) op = take_diagonals(std::move(op));

  // keep[label]: the output or an operand not yet contracted still needs it.
  std::vector<bool> keep(static_cast<std::size_t>(labels), false);
  for (int label : out_labels) keep[static_cast<std::size_t>(label)] = true;
  const auto needed_after = [&](std::size_t first) {
    std::vector<bool> needed = keep;
    for (std::size_t j = first; j < operands.size(); ++j)
      for (int label : operands[j].labels) needed[static_cast<std::size_t>(label)] = true;
    return needed;
  };
  Operand result = operands[0];
  for (std::size_t i = 1; i < operands.size(); ++i) result = contract(std::move(result), operands[i], needed_after(i + 1), sizes);
  result = sum_unneeded(std::move(result), [&](int label) { return keep[static_cast<std::size_t>(label)]; });

  // Every output label is in the result now (the contractions kept them): put them in order.
  std::vector<std::int64_t> order;
  for (int label : out_labels)
    order.push_back(std::find(result.labels.begin(), result.labels.end(), label) - result.labels.begin());
  return result.tensor.permute(order);
}

}  // namespace xgrad
