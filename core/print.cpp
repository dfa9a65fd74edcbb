// Tensor::to_string: tensors print as Python's PyTorch 1.13 prints them (torch/_tensor_str.py), so
// what a student sees matches the notebooks and blog posts they learn from:
//
//   tensor([[1.0000, 2.5000],
//           [3.0000, 4.0000]], grad_fn=<AddBackward0>)
//
// One format for every element of a tensor: whole-valued floats print as "1.", others with four
// decimals, and scientific notation takes over when the magnitudes span more than 1000x or reach
// 1e8 (or, for non-whole values, drop below 1e-4). Elements are right-aligned to a common width,
// rows wrap at 80 characters, and tensors of more than 1000 elements show only the first and last
// three entries along each dim.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

namespace {

constexpr int kPrecision = 4;
constexpr std::int64_t kThreshold = 1000;  // more elements than this are summarised
constexpr std::int64_t kEdgeItems = 3;
constexpr std::size_t kLineWidth = 80;

std::string printf_double(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, kPrecision, value);
  return buffer;
}

// Python's "{:.0f}" (no precision argument).
std::string whole(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.0f", value);
  return buffer;
}

std::string nonfinite(double value) {
  if (std::isnan(value)) return "nan";
  return value > 0 ? "inf" : "-inf";
}

// torch._tensor_str._Formatter: decides the notation and width from the values it will print.
class Formatter {
 public:
  Formatter(const std::vector<double>& values, bool floating, bool is_bool) : floating_(floating) {
    if (!floating_) {
      for (double v : values) width_ = std::max(width_, is_bool ? (v != 0 ? 4u : 5u) : integer_text(v).size());
      return;
    }
    std::vector<double> shown;
    for (double v : values)
      if (std::isfinite(v) && v != 0) shown.push_back(v);
    if (shown.empty()) return;
    double smallest = INFINITY, largest = 0;
    for (double v : shown) {
      smallest = std::min(smallest, std::abs(v));
      largest = std::max(largest, std::abs(v));
      if (v != std::ceil(v)) whole_ = false;
    }
    scientific_ = largest / smallest > 1000.0 || largest > 1e8 || (!whole_ && smallest < 1e-4);
    for (double v : shown) {
      if (scientific_) width_ = std::max(width_, printf_double("%.*e", v).size());
      else if (whole_) width_ = std::max(width_, whole(v).size() + 1);
      else width_ = std::max(width_, printf_double("%.*f", v).size());
    }
  }

  std::size_t width() const { return width_; }

  std::string format(double value, bool is_bool) const {
    std::string text;
    if (is_bool) text = value != 0 ? "True" : "False";
    else if (!floating_) text = integer_text(value);
    else if (!std::isfinite(value)) text = nonfinite(value);
    else if (scientific_) text = printf_double("%.*e", value);
    else if (whole_) text = whole(value) + ".";
    else text = printf_double("%.*f", value);
    return std::string(width_ > text.size() ? width_ - text.size() : 0, ' ') + text;
  }

 private:
  static std::string integer_text(double value) { return std::to_string(static_cast<std::int64_t>(value)); }

  bool floating_;
  bool whole_ = true;
  bool scientific_ = false;
  std::size_t width_ = 1;
};

// The elements as doubles with their row-major shape (int64 beyond 2^53 would round; printing only).
struct Values {
  std::vector<double> data;
  Shape shape;
  double at(const std::vector<std::int64_t>& index) const {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + index[d];
    return data[static_cast<std::size_t>(flat)];
  }
};

// The positions printed along a dim of `size`: all, or the first and last kEdgeItems with a gap
// (marked -1) between them when the tensor is summarised.
std::vector<std::int64_t> shown_positions(std::int64_t size, bool summarize) {
  std::vector<std::int64_t> positions;
  if (summarize && size > 2 * kEdgeItems) {
    for (std::int64_t i = 0; i < kEdgeItems; ++i) positions.push_back(i);
    positions.push_back(-1);
    for (std::int64_t i = size - kEdgeItems; i < size; ++i) positions.push_back(i);
  } else {
    for (std::int64_t i = 0; i < size; ++i) positions.push_back(i);
  }
  return positions;
}

class Printer {
 public:
  Printer(const Values& values, bool summarize, bool is_bool, bool floating)
      : values_(values), summarize_(summarize), is_bool_(is_bool),
        formatter_(shown_values(values, summarize), floating, is_bool) {}

  // The nested lists from dim `dim` on, at a given indent (torch's _tensor_str_with_formatter). The
  // depth is the tensor's rank, never the graph's.
  std::string nested(std::vector<std::int64_t>& index, std::size_t dim, std::size_t indent) const {
    const std::vector<std::int64_t> positions = shown_positions(values_.shape[dim], summarize_);
    if (dim + 1 == values_.shape.size()) return vector(index, dim, indent, positions);
    std::vector<std::string> slices;
    for (std::int64_t position : positions) {
      if (position < 0) {
        slices.push_back("...");
        continue;
      }
      index[dim] = position;
      slices.push_back(nested(index, dim + 1, indent + 1));
    }
    const std::string separator =
        "," + std::string(values_.shape.size() - dim - 1, '\n') + std::string(indent + 1, ' ');
    return "[" + join(slices, separator) + "]";
  }

  std::string scalar() const { return formatter_.format(values_.data.at(0), is_bool_); }

 private:
  static std::vector<double> shown_values(const Values& values, bool summarize) {
    if (!summarize) return values.data;
    std::vector<double> shown;
    std::vector<std::int64_t> index(values.shape.size(), 0);
    collect(values, summarize, 0, index, shown);
    return shown;
  }
  static void collect(const Values& values, bool summarize, std::size_t dim, std::vector<std::int64_t>& index,
                      std::vector<double>& out) {
    for (std::int64_t position : shown_positions(values.shape[dim], summarize)) {
      if (position < 0) continue;
      index[dim] = position;
      if (dim + 1 == values.shape.size()) out.push_back(values.at(index));
      else collect(values, summarize, dim + 1, index, out);
    }
  }

  std::string vector(std::vector<std::int64_t>& index, std::size_t dim, std::size_t indent,
                     const std::vector<std::int64_t>& positions) const {
    const std::size_t element_length = formatter_.width() + 2;
    const std::size_t per_line =
        std::max<std::size_t>(1, (kLineWidth > indent ? kLineWidth - indent : 0) / element_length);
    std::vector<std::string> elements;
    for (std::int64_t position : positions) {
      if (position < 0) {
        elements.push_back(" ...");  // Python's spelling, one space wider than a nested "..."
        continue;
      }
      index[dim] = position;
      elements.push_back(formatter_.format(values_.at(index), is_bool_));
    }
    std::vector<std::string> lines;
    for (std::size_t start = 0; start < elements.size(); start += per_line) {
      const auto first = elements.begin() + static_cast<std::ptrdiff_t>(start);
      const auto last = elements.begin() + static_cast<std::ptrdiff_t>(std::min(elements.size(), start + per_line));
      lines.push_back(join(std::vector<std::string>(first, last), ", "));
    }
    return "[" + join(lines, ",\n" + std::string(indent + 1, ' ')) + "]";
  }

  static std::string join(const std::vector<std::string>& parts, const std::string& separator) {
    std::string out;
    for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? separator : "") + parts[i];
    return out;
  }

  const Values& values_;
  bool summarize_;
  bool is_bool_;
  Formatter formatter_;
};

const char* torch_dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32: return "torch.float32";
    case Dtype::Float64: return "torch.float64";
    case Dtype::Int64: return "torch.int64";
    case Dtype::Bool: return "torch.bool";
    case Dtype::UInt8: return "torch.uint8";
  }
  return "unknown";
}

}  // namespace

std::string Tensor::to_string() const {
  if (!defined()) return "tensor(undefined)";
  Values values;
  values.shape = shape();
  visit_any_dtype(dtype(), [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& elements = array<T>(*this);
    values.data.assign(elements.begin(), elements.end());
  });
  const std::string prefix = "tensor(";
  std::string body;
  std::vector<std::string> suffixes;
  const bool is_bool = dtype() == kBool;
  if (numel() == 0) {
    body = "[]";
    if (values.shape.size() != 1) {
      std::string sizes = "size=(";
      for (std::size_t d = 0; d < values.shape.size(); ++d)
        sizes += (d ? ", " : "") + std::to_string(values.shape[d]);
      suffixes.push_back(sizes + ")");
    }
  } else {
    const Printer printer(values, numel() > kThreshold, is_bool, is_floating(dtype()));
    std::vector<std::int64_t> index(values.shape.size(), 0);
    body = values.shape.empty() ? printer.scalar() : printer.nested(index, 0, prefix.size());
  }
  // Python names the dtype unless it is the one the values imply (float32, int64, bool).
  if (dtype() != kFloat32 && dtype() != kInt64 && dtype() != kBool)
    suffixes.push_back(std::string("dtype=") + torch_dtype_name(dtype()));
  if (grad_fn()) suffixes.push_back(std::string("grad_fn=<") + grad_fn()->name() + ">");
  else if (impl_->requires_grad) suffixes.push_back("requires_grad=True");
  std::string out = prefix + body;
  for (const std::string& suffix : suffixes) out += ", " + suffix;
  return out + ")";
}

}  // namespace xgrad
