#include <xgrad/core/html.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

#include <xgrad/core/engine.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/node.hpp>

namespace xgrad {

namespace {

// The node's local derivative (Node::formula(), written beside its backward), one entry per line.
// g is the gradient arriving at the node, x its input, y its output. A broadcast input's gradient
// is afterwards summed back to its shape (sum_to), which the page says once rather than on every
// line.
std::vector<std::string> formula_lines(const Node& node) {
  std::vector<std::string> lines;
  const char* formula = node.formula();
  if (!formula) return lines;
  const char* line = formula;
  while (const char* end = std::strchr(line, '\n')) {
    lines.emplace_back(line, end);
    line = end + 1;
  }
  lines.emplace_back(line);
  return lines;
}

// ---- JSON, written by hand: a few kinds of value, and a page that must load nothing ------------

void json_string(std::ostream& out, const std::string& text) {
  out << '"';
  for (const char c : text) {
    switch (c) {
      case '"': out << "\\\""; break;
      case '\\': out << "\\\\"; break;
      case '\n': out << "\\n"; break;
      // '<' escaped so that no string can close the <script> element the data sits in.
      case '<': out << "\\u003c"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char code[8];
          std::snprintf(code, sizeof code, "\\u%04x", c);
          out << code;
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

// JSON has no NaN or infinity: they travel as the strings the page prints.
void json_number(std::ostream& out, double value) {
  if (std::isnan(value)) {
    out << "\"nan\"";
  } else if (std::isinf(value)) {
    out << (value > 0 ? "\"inf\"" : "\"-inf\"");
  } else {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value);  // exact: the page rounds for display
    out << text;
  }
}

void json_shape(std::ostream& out, const Shape& shape) {
  out << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? "," : "") << shape[i];
  out << ']';
}

void json_values(std::ostream& out, const HtmlRecorder::Values* values) {
  if (!values) {
    out << "null";
    return;
  }
  out << "{\"shape\":";
  json_shape(out, values->shape);
  out << ",\"dtype\":";
  json_string(out, values->dtype);
  if (values->full) {
    out << ",\"values\":[";
    for (std::size_t i = 0; i < values->elements.size(); ++i) {
      if (i) out << ',';
      json_number(out, values->elements[i]);
    }
    out << ']';
  } else {
    out << ",\"min\":";
    json_number(out, values->min);
    out << ",\"mean\":";
    json_number(out, values->mean);
    out << ",\"max\":";
    json_number(out, values->max);
  }
  out << ",\"nan\":" << values->nan_count << ",\"inf\":" << values->inf_count << '}';
}


// ---- module groups: which module of a model each node belongs to -------------------------------
//
// The graph knows no modules, but the leaves carry the names named_parameters() gave them
// ("h.3.attn.c_attn.weight"). The rule, applied in this order:
//  1. A named leaf belongs to its name without the last component ("h.3.attn.c_attn"; a name
//     without a dot, such as a root module's own "weight" or a user's "w1", to the top level "").
//  2. A view node (transpose, reshape, expand, ...) reading such a leaf directly or through at most
//     kViewChain view nodes belongs to it too, and so does any op reading such leaves and views:
//     it belongs to the deepest path their modules share ("h.3.ln_1" and "h.3.attn" share "h.3").
//  3. Every other op (activations, residual adds, attention math) lies between groups: it belongs to
//     the deepest path shared by the nearest groups below it (towards the leaves, through its inputs)
//     and the nearest above it (towards the root, through its consumers); without a group on both
//     sides, to the top level. An op whose inputs and consumers all lie in "h.3" joins "h.3".
//
// Repeated module subgraphs are the groups whose path ends in an index that a sibling path shares
// all but ("h.0", "h.1", ...; "0", "2", "4" of a Sequential; "layers.0", ...). A node's box is the
// shortest such prefix of its group, then every node lying on a path between two members of a box
// joins it (so that a box drawn as one unit has no path leaving and re-entering it). Boxes of one
// node are dropped, and so are all boxes if drawing them as units would still make a cycle.
struct ModuleGroups {
  std::vector<std::string> group;  // per node: its module path, "" for the top level
  std::vector<std::string> box;    // per node: the repeated module it is collapsed into, or ""
};

constexpr int kViewChain = 3;
// Graphs with more nodes than this open with their repeated modules collapsed into boxes; smaller
// ones are drawn node by node (a box hides what a student of a small graph wants to see).
constexpr std::size_t kCollapseAbove = 150;

bool is_view(const Node& node) {
  static const char* const kViews[] = {
      "ViewBackward0",    "ReshapeAliasBackward0", "UnsafeViewBackward0", "UnsqueezeBackward0",
      "SqueezeBackward0", "SqueezeBackward1",      "PermuteBackward0",    "TransposeBackward0",
      "TBackward0",       "ExpandBackward0",       "SliceBackward0",      "SelectBackward0",
      "SplitBackward0",   "SplitWithSizesBackward0", "UnbindBackward0"};
  for (const char* view : kViews)
    if (std::strcmp(node.name(), view) == 0) return true;
  return false;
}

std::vector<std::string> path_parts(const std::string& path) {
  std::vector<std::string> parts;
  if (path.empty()) return parts;
  std::size_t begin = 0;
  for (std::size_t dot = path.find('.'); dot != std::string::npos; dot = path.find('.', begin)) {
    parts.push_back(path.substr(begin, dot - begin));
    begin = dot + 1;
  }
  parts.push_back(path.substr(begin));
  return parts;
}

// The deepest module path both lie in: "h.3.attn" and "h.3.mlp" -> "h.3".
std::string shared_path(const std::string& a, const std::string& b) {
  const std::vector<std::string> pa = path_parts(a), pb = path_parts(b);
  std::string shared;
  for (std::size_t i = 0; i < std::min(pa.size(), pb.size()) && pa[i] == pb[i]; ++i)
    shared += (i ? "." : "") + pa[i];
  return shared;
}

// Folds `path` into `into` (unset means no path seen yet).
void share(std::optional<std::string>& into, const std::optional<std::string>& path) {
  if (!path) return;
  into = into ? shared_path(*into, *path) : *path;
}

bool is_index(const std::string& part) {
  return !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// nodes[0] is the root; by_layer lists the nodes so that every node comes after all its consumers.
ModuleGroups module_groups(const std::vector<const Node*>& nodes,
                           const std::unordered_map<const Node*, std::size_t>& ids,
                           const std::vector<std::size_t>& by_layer) {
  const std::size_t n = nodes.size();
  std::vector<std::vector<std::size_t>> inputs(n), consumers(n);
  for (std::size_t id = 0; id < n; ++id)
    for (const Edge& edge : nodes[id]->next_edges())
      if (edge.function) {
        const std::size_t input = ids.at(edge.function.get());
        inputs[id].push_back(input);
        consumers[input].push_back(id);
      }
  // Steps 1 and 2, inputs first: the groups of parameters, the views of them, and the ops reading them.
  std::vector<std::optional<std::string>> seed(n);
  std::vector<int> chain(n, -1);  // for a leaf or view that carries a parameter's group: views in between
  for (auto it = by_layer.rbegin(); it != by_layer.rend(); ++it) {
    const std::size_t id = *it;
    if (const auto* sink = dynamic_cast<const AccumulateGrad*>(nodes[id])) {
      const std::string& name = sink->leaf().name();
      if (name.empty()) continue;
      const std::size_t dot = name.rfind('.');
      seed[id] = dot == std::string::npos ? std::string() : name.substr(0, dot);
      chain[id] = 0;
      continue;
    }
    const bool view = is_view(*nodes[id]);
    for (const std::size_t input : inputs[id]) {
      if (chain[input] < 0 || (view && chain[input] >= kViewChain)) continue;
      share(seed[id], seed[input]);
      if (view) chain[id] = chain[id] < 0 ? chain[input] + 1 : std::min(chain[id], chain[input] + 1);
    }
  }
  // Step 3: the nearest groups below (inputs first) and above (consumers first) each other op.
  std::vector<std::optional<std::string>> below(n), above(n);
  for (auto it = by_layer.rbegin(); it != by_layer.rend(); ++it) {
    below[*it] = seed[*it];
    if (!seed[*it])
      for (const std::size_t input : inputs[*it]) share(below[*it], below[input]);
  }
  for (const std::size_t id : by_layer) {
    above[id] = seed[id];
    if (!seed[id])
      for (const std::size_t consumer : consumers[id]) share(above[id], above[consumer]);
  }
  ModuleGroups groups;
  groups.group.resize(n);
  groups.box.resize(n);
  for (std::size_t id = 0; id < n; ++id) {
    if (seed[id]) groups.group[id] = *seed[id];
    else if (below[id] && above[id]) groups.group[id] = shared_path(*below[id], *above[id]);
  }

  // Repeated modules: the indices seen under each parent path.
  std::map<std::string, std::set<std::string>> indices;
  for (const std::string& group : groups.group) {
    std::string parent;
    for (const std::string& part : path_parts(group)) {
      if (is_index(part)) indices[parent].insert(part);
      parent += (parent.empty() ? "" : ".") + part;
    }
  }
  for (std::size_t id = 0; id < n; ++id) {
    std::string prefix;
    for (const std::string& part : path_parts(groups.group[id])) {
      const std::string parent = prefix;
      prefix += (prefix.empty() ? "" : ".") + part;
      if (is_index(part) && indices[parent].size() > 1) {
        groups.box[id] = prefix;
        break;
      }
    }
  }
  // Boxes in order of first appearance, closed over the paths between their members.
  std::vector<std::string> boxes;
  std::map<std::string, std::size_t> box_index;
  for (const std::string& box : groups.box)
    if (!box.empty() && box_index.emplace(box, boxes.size()).second) boxes.push_back(box);
  for (const std::string& box : boxes) {
    std::vector<char> from_member(n, 0), to_member(n, 0);  // reached from a member / reaches a member
    for (const std::size_t id : by_layer)  // consumers first: does a consumer lie in or reach the box
      for (const std::size_t consumer : consumers[id])
        if (groups.box[consumer] == box || to_member[consumer]) to_member[id] = 1;
    for (auto it = by_layer.rbegin(); it != by_layer.rend(); ++it)
      for (const std::size_t input : inputs[*it])
        if (groups.box[input] == box || from_member[input]) from_member[*it] = 1;
    for (std::size_t id = 0; id < n; ++id)
      if (groups.box[id].empty() && from_member[id] && to_member[id]) groups.box[id] = box;
  }
  // Drop boxes of one node; then check that the graph with each box as one unit has no cycle (Kahn).
  std::map<std::string, std::size_t> members;
  for (const std::string& box : groups.box)
    if (!box.empty()) ++members[box];
  for (std::string& box : groups.box)
    if (!box.empty() && members[box] < 2) box.clear();
  std::vector<std::size_t> unit(n);
  for (std::size_t id = 0; id < n; ++id)
    unit[id] = groups.box[id].empty() ? id : n + box_index.at(groups.box[id]);
  std::set<std::pair<std::size_t, std::size_t>> unit_edges;
  for (std::size_t id = 0; id < n; ++id)
    for (const std::size_t input : inputs[id])
      if (unit[input] != unit[id]) unit_edges.emplace(unit[id], unit[input]);
  std::vector<std::size_t> pending(n + boxes.size(), 0);
  std::vector<std::vector<std::size_t>> unit_inputs(n + boxes.size());
  for (const auto& [consumer, input] : unit_edges) {
    ++pending[input];
    unit_inputs[consumer].push_back(input);
  }
  std::set<std::size_t> units(unit.begin(), unit.end());
  std::vector<std::size_t> ready;
  for (const std::size_t u : units)
    if (pending[u] == 0) ready.push_back(u);
  std::size_t placed = 0;
  while (!ready.empty()) {
    const std::size_t u = ready.back();
    ready.pop_back();
    ++placed;
    for (const std::size_t input : unit_inputs[u])
      if (--pending[input] == 0) ready.push_back(input);
  }
  if (placed != units.size())
    for (std::string& box : groups.box) box.clear();
  return groups;
}
}  // namespace

// The page around the data: its style and script (core/html_page.cpp).
namespace detail {
extern const char* const kHtmlPageHead;
extern const char* const kHtmlPageTail;
}  // namespace detail

HtmlRecorder::HtmlRecorder(HtmlOptions options) : options_(std::move(options)) {
  check(options_.max_values() >= 0, "HtmlRecorder: max_values must be >= 0, got ", options_.max_values());
}

HtmlRecorder::~HtmlRecorder() = default;

HtmlRecorder::Values HtmlRecorder::capture(const Tensor& tensor, std::int64_t max_values) {
  Values values;
  values.shape = tensor.shape();
  values.dtype = dtype_name(tensor.dtype());
  // A copy in double whatever the dtype, made outside any graph (this may run inside a recorded
  // backward pass, under create_graph).
  NoGradGuard no_grad;
  const std::vector<double> elements = tensor.detach().to(kFloat64).to_vector<double>();
  double total = 0;
  std::int64_t finite = 0;
  values.min = std::numeric_limits<double>::infinity();
  values.max = -std::numeric_limits<double>::infinity();
  for (const double v : elements) {
    if (std::isnan(v)) {
      ++values.nan_count;
      continue;
    }
    if (std::isinf(v)) ++values.inf_count;
    else {
      total += v;
      ++finite;
    }
    values.min = std::min(values.min, v);
    values.max = std::max(values.max, v);
  }
  values.mean = finite ? total / static_cast<double>(finite) : std::nan("");
  if (values.nan_count + values.inf_count == static_cast<std::int64_t>(elements.size()) && values.inf_count == 0)
    values.min = values.max = std::nan("");
  values.full = static_cast<std::int64_t>(elements.size()) <= max_values;
  if (values.full) values.elements = elements;
  return values;
}

void HtmlRecorder::recorded(const std::shared_ptr<Node>& node, const Tensor& output) {
  outputs_[node.get()] = {node, capture(output, options_.max_values())};
}

void HtmlRecorder::backward_begins(bool /*accumulates*/) { passes_.emplace_back(); }

void HtmlRecorder::ran(const std::shared_ptr<Node>& node, const Tensor& grad_output,
                       const gradient_list& grad_inputs) {
  if (passes_.empty()) passes_.emplace_back();
  Step step;
  step.node = node;
  step.has_grad_output = grad_output.defined();
  if (step.has_grad_output) step.grad_output = capture(grad_output, options_.max_values());
  for (const Tensor& grad : grad_inputs) {
    step.has_grad_input.push_back(grad.defined());
    step.grad_inputs.push_back(grad.defined() ? capture(grad, options_.max_values()) : Values());
  }
  passes_.back().push_back(std::move(step));
}

bool HtmlRecorder::saw(const Node* node) const {
  for (const std::vector<Step>& pass : passes_)
    for (const Step& step : pass)
      if (step.node.get() == node) return true;
  return false;
}

std::string HtmlRecorder::html(const Tensor& root) const { return page(root, options_); }

std::string HtmlRecorder::page(const Tensor& root, const HtmlOptions& options) const {
  const auto capture = [&](const Tensor& tensor) { return HtmlRecorder::capture(tensor, options.max_values()); };
  check(root.defined(), "to_html: called on an undefined tensor");
  const std::shared_ptr<Node> root_node = gradient_edge(root);
  check(root_node != nullptr, "to_html: the tensor (shape ", shape_str(root.shape()),
        ") has no graph: it does not require grad, so no op was recorded behind it");

  // The last pass this recorder saw run through the root.
  const std::vector<Step>* pass = nullptr;
  for (auto it = passes_.rbegin(); it != passes_.rend() && !pass; ++it)
    for (const Step& step : *it)
      if (step.node == root_node) {
        pass = &*it;
        break;
      }
  // None: run one now, as autograd::grad does (no leaf's grad() changes), under a recorder of its own.
  HtmlRecorder own(options);
  const bool own_pass = pass == nullptr;
  if (!pass) {
    check(!root_node->released(), "to_html: the graph behind this tensor (", root_node->name(),
          ") was freed by a backward() that no HtmlRecorder saw; create an xgrad::HtmlRecorder before calling "
          "backward() (or call to_html before backward(), or pass retain_graph=true)");
    check(root.numel() == 1, "to_html: no backward pass was recorded through this tensor of shape ",
          shape_str(root.shape()), ", and one can be run only from a one-element tensor; call backward(gradient) "
          "while an HtmlRecorder is alive");
    Engine::Options engine_options;
    engine_options.keep_graph = true;
    engine_options.accumulate_grad = false;
    Engine::execute({{root_node, ones_like(root.detach())}}, engine_options);
    for (auto it = own.passes_.rbegin(); it != own.passes_.rend() && !pass; ++it)
      for (const Step& step : *it)
        if (step.node == root_node) {
          pass = &*it;
          break;
        }
    check(pass != nullptr, "to_html: internal error: the backward pass run for the page was not recorded");
  }

  // The graph: every node reachable from the root, numbered in discovery order, with an explicit
  // stack (graphs can be 100,000 ops deep).
  std::unordered_map<const Node*, std::size_t> ids{{root_node.get(), 0}};
  std::vector<const Node*> nodes{root_node.get()};
  std::vector<const Node*> to_visit{root_node.get()};
  std::vector<std::size_t> consumers_left(1, 0);
  while (!to_visit.empty()) {
    const Node* node = to_visit.back();
    to_visit.pop_back();
    for (const Edge& edge : node->next_edges()) {
      if (!edge.function) continue;
      auto [it, inserted] = ids.emplace(edge.function.get(), nodes.size());
      if (inserted) {
        nodes.push_back(edge.function.get());
        consumers_left.push_back(0);
        to_visit.push_back(edge.function.get());
      }
      ++consumers_left[it->second];
    }
  }
  // Layers: a node sits one below its lowest consumer (the longest path from the root), found in
  // Kahn's order so that every consumer is placed first.
  std::vector<std::size_t> layer(nodes.size(), 0);
  std::vector<std::size_t> ready{0};
  while (!ready.empty()) {
    const std::size_t id = ready.back();
    ready.pop_back();
    for (const Edge& edge : nodes[id]->next_edges()) {
      if (!edge.function) continue;
      const std::size_t next = ids.at(edge.function.get());
      layer[next] = std::max(layer[next], layer[id] + 1);
      if (--consumers_left[next] == 0) ready.push_back(next);
    }
  }

  std::vector<std::size_t> by_layer(nodes.size());
  for (std::size_t id = 0; id < nodes.size(); ++id) by_layer[id] = id;
  std::stable_sort(by_layer.begin(), by_layer.end(), [&](std::size_t a, std::size_t b) { return layer[a] < layer[b]; });
  const ModuleGroups groups = module_groups(nodes, ids, by_layer);

  std::ostringstream data;
  data << "{\"title\":";
  json_string(data, options.title());
  data << ",\"nodes\":[";
  for (std::size_t id = 0; id < nodes.size(); ++id) {
    const Node& node = *nodes[id];
    const auto* sink = dynamic_cast<const AccumulateGrad*>(&node);
    const std::shared_ptr<TensorImpl> retained = node.retained_output();
    Values value, grad;
    bool has_value = false, has_grad = false;
    if (sink) {
      value = capture(sink->leaf());
      has_value = true;
      if (sink->leaf().grad().defined()) {
        grad = capture(sink->leaf().grad());
        has_grad = true;
      }
    } else if (id == 0) {
      value = capture(root);
      has_value = true;
    } else if (const auto found = outputs_.find(&node); found != outputs_.end()) {
      value = found->second.second;
      has_value = true;
    }
    if (retained) {
      const Tensor tensor(retained);
      if (!has_value) {
        value = capture(tensor);
        has_value = true;
      }
      if (tensor.grad().defined()) {
        grad = capture(tensor.grad());
        has_grad = true;
      }
    }
    data << (id ? "," : "") << "\n{\"id\":" << id << ",\"name\":";
    json_string(data, node.name());
    data << ",\"kind\":\"" << (sink ? "leaf" : "op") << "\",\"root\":" << (id == 0 ? "true" : "false")
         << ",\"retained\":" << (retained && Tensor(retained).retains_grad() ? "true" : "false") << ",\"label\":";
    json_string(data, sink ? sink->leaf().name() : std::string());
    data << ",\"shape\":";
    json_shape(data, node.output_shape.to_shape());
    data << ",\"dtype\":\"" << dtype_name(node.output_dtype) << "\",\"layer\":" << layer[id] << ",\"inputs\":[";
    for (std::size_t i = 0; i < node.next_edges().size(); ++i) {
      const Node* next = node.next_edges()[i].function.get();
      data << (i ? "," : "") << (next ? static_cast<long long>(ids.at(next)) : -1LL);
    }
    data << "],\"formula\":[";
    const std::vector<std::string> lines = formula_lines(node);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i) data << ',';
      json_string(data, lines[i]);
    }
    data << "],\"group\":";
    json_string(data, groups.group[id]);
    data << ",\"box\":";
    json_string(data, groups.box[id]);
    data << ",\"value\":";
    json_values(data, has_value ? &value : nullptr);
    data << ",\"grad\":";
    json_values(data, has_grad ? &grad : nullptr);
    data << '}';
  }
  data << "],\"collapse\":" << (nodes.size() > kCollapseAbove ? "true" : "false")
       << ",\"accumulated\":" << (own_pass ? "false" : "true") << ",\"steps\":[";
  bool first = true;
  for (const Step& step : *pass) {
    const auto found = ids.find(step.node.get());
    if (found == ids.end()) continue;  // a node of another root's graph, in a pass with several roots
    data << (first ? "" : ",") << "\n{\"node\":" << found->second << ",\"grad\":";
    first = false;
    json_values(data, step.has_grad_output ? &step.grad_output : nullptr);
    data << ",\"sent\":[";
    for (std::size_t i = 0; i < step.grad_inputs.size(); ++i) {
      if (i) data << ',';
      json_values(data, step.has_grad_input[i] ? &step.grad_inputs[i] : nullptr);
    }
    data << "]}";
  }
  data << "]}";

  std::string text = detail::kHtmlPageHead;
  text += "<script id=\"graph-data\" type=\"application/json\">";
  text += data.str();
  text += "</script>\n";
  text += detail::kHtmlPageTail;
  return text;
}

namespace {
void write_file(const std::string& text, const std::string& path) {
  std::ofstream file(path, std::ios::binary);
  check(file.is_open(), "to_html: cannot open '", path, "' for writing");
  file << text;
  file.close();
  check(!file.fail(), "to_html: writing '", path, "' failed");
}
}  // namespace

void HtmlRecorder::write(const Tensor& root, const std::string& path) const { write_file(page(root, options_), path); }

void to_html(const Tensor& root, const std::string& path, HtmlOptions options) {
  check(root.defined(), "to_html: called on an undefined tensor");
  const std::shared_ptr<Node> root_node = gradient_edge(root);
  // The innermost live recorder that saw a pass through this graph.
  for (autograd::GraphObserver* observer = autograd::GraphObserver::innermost(); observer;
       observer = observer->outer()) {
    const auto* recorder = dynamic_cast<const HtmlRecorder*>(observer);
    if (recorder && root_node && recorder->saw(root_node.get())) {
      write_file(recorder->page(root, options), path);
      return;
    }
  }
  HtmlRecorder(std::move(options)).write(root, path);
}

}  // namespace xgrad
