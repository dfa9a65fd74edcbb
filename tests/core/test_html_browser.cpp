// The page to_html writes, as a browser runs it: headless Chromium opens it with #selftest (the
// script then steps through the whole backward pass and copies what it showed into the DOM) and
// dumps the DOM, which this test reads. Skipped when Chromium is not installed
// (./install-deps.sh --chromium installs Debian's package).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "compare.hpp"
#include "residual_blocks.hpp"

namespace xgrad {
namespace {

bool have_chromium() { return std::system("command -v chromium > /dev/null 2>&1") == 0; }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The DOM after the page's script ran, or "" when Chromium failed.
std::string dump_dom(const std::string& page_path) {
  char profile[] = "/tmp/xgrad-chromium-XXXXXX";
  if (!mkdtemp(profile)) return "";
  const std::string dom_path = std::string(profile) + "/dom.html";
  const std::string command =
      std::string("timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking "
                  "--disable-component-update --disable-sync --no-first-run --user-data-dir=") +
      profile + " --virtual-time-budget=5000 --dump-dom 'file://" + page_path + "#selftest' > " + dom_path +
      " 2> /dev/null";
  const int status = std::system(command.c_str());
  std::string dom = status == 0 ? read_file(dom_path) : "";
  std::system((std::string("rm -rf ") + profile).c_str());
  return dom;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

struct Counts {
  std::size_t nodes = 0, edges = 0;
};

// The graph as the engine sees it, counted here independently of to_html.
Counts graph_counts(const Tensor& root) {
  Counts counts;
  std::vector<const Node*> seen{root.grad_fn().get()}, to_visit{root.grad_fn().get()};
  while (!to_visit.empty()) {
    const Node* node = to_visit.back();
    to_visit.pop_back();
    for (const Edge& edge : node->next_edges()) {
      if (!edge.function) continue;
      ++counts.edges;
      if (std::find(seen.begin(), seen.end(), edge.function.get()) == seen.end()) {
        seen.push_back(edge.function.get());
        to_visit.push_back(edge.function.get());
      }
    }
  }
  counts.nodes = seen.size();
  return counts;
}

struct NameLog final : autograd::GraphObserver {
  void ran(const std::shared_ptr<Node>& node, const Tensor&, const gradient_list&) override {
    names.push_back(node->name());
  }
  std::vector<std::string> names;
};

std::vector<double> numbers_in(const std::string& text) {
  std::vector<double> numbers;
  const std::regex number(R"(-?(\d+\.?\d*(e[-+]?\d+)?|inf|nan))");
  for (std::sregex_iterator it(text.begin(), text.end(), number), end; it != end; ++it) {
    const std::string match = it->str();
    numbers.push_back(match == "nan" ? std::nan("") : std::stod(match));
  }
  return numbers;
}

TEST(ToHtmlBrowser, StepsThroughEveryNodeInTheEnginesOrderAndShowsEachLeafsGrad) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (./install-deps.sh --chromium installs it)";

  // A two-layer MLP step with cross-entropy; w1 is also read by a weight penalty, so its
  // AccumulateGrad sums two contributions.
  manual_seed(3);
  Tensor x = randn({4, 3}, kFloat64);
  Tensor targets = tensor({0, 2, 1, 2});
  Tensor w1 = (randn({3, 5}, kFloat64) * 0.5).requires_grad_();
  Tensor b1 = zeros({5}, kFloat64).requires_grad_();
  Tensor w2 = (randn({5, 3}, kFloat64) * 0.5).requires_grad_();
  w1.set_name("w1");
  b1.set_name("b1");
  w2.set_name("w2");
  const std::vector<Tensor> leaves = {w1, b1, w2};

  HtmlRecorder recorder;
  NameLog order;
  Tensor hidden = tanh(x.matmul(w1) + b1);
  Tensor hidden_kept = hidden;
  hidden_kept.retain_grad();
  Tensor loss = nn::functional::cross_entropy(hidden.matmul(w2), targets) + (w1 * w1).sum() * 0.01;
  loss.backward();
  const std::string path = ::testing::TempDir() + "xgrad_to_html_browser.html";
  recorder.write(loss, path);

  const std::string dom = dump_dom(path);
  std::remove(path.c_str());
  ASSERT_NE(dom.find("id=\"selftest\""), std::string::npos) << "the page's script did not finish:\n"
                                                           << dom.substr(0, 2000);

  const Counts expected = graph_counts(loss);
  EXPECT_EQ(count(dom, "<g class=\"node "), expected.nodes);
  EXPECT_EQ(count(dom, "<path class=\"edge"), expected.edges);
  EXPECT_EQ(count(dom, "class=\"node leaf"), 3u);
  EXPECT_EQ(count(dom, "<g class=\"node op retained"), 1u);

  // Stepping visits every node once, in the engine's order.
  const std::regex visited_item(R"re(<li data-node="(\d+)">([A-Za-z0-9]+)</li>)re");
  const std::size_t list_begin = dom.find("<ol id=\"visited\">");
  const std::string list = dom.substr(list_begin, dom.find("</ol>", list_begin) - list_begin);
  std::vector<std::string> names;
  std::vector<int> ids;
  for (std::sregex_iterator it(list.begin(), list.end(), visited_item), end; it != end; ++it) {
    ids.push_back(std::stoi((*it)[1]));
    names.push_back((*it)[2]);
  }
  EXPECT_EQ(names, order.names);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()) - ids.begin(), static_cast<std::ptrdiff_t>(expected.nodes));

  // The gradient shown for each leaf is leaf.grad() to the page's printed precision (4 digits).
  for (const Tensor& leaf : leaves) {
    const std::regex item("<li data-node=\"\\d+\" data-label=\"" + leaf.name() + "\">([^<]*)</li>");
    std::smatch match;
    ASSERT_TRUE(std::regex_search(dom, match, item)) << leaf.name();
    const std::vector<double> shown = numbers_in(match[1]);
    const std::vector<double> grad = leaf.grad().to_vector<double>();
    ASSERT_EQ(shown.size(), grad.size()) << leaf.name() << ": " << match[1];
    for (std::size_t i = 0; i < grad.size(); ++i)
      EXPECT_NEAR(shown[i], grad[i], 1e-3 * std::abs(grad[i]) + 1e-12) << leaf.name() << " element " << i;
  }
}

// A small CNN's step, deep enough for a graph of about 300 nodes: the page still lays it out, the
// script steps through every node once, and the counts match the graph.
TEST(ToHtmlBrowser, AThreeHundredNodeCnnStep) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (./install-deps.sh --chromium installs it)";
  manual_seed(5);
  HtmlRecorder recorder;
  NameLog order;
  Tensor h = randn({2, 3, 6, 6}, kFloat64);
  std::vector<Tensor> parameters;
  for (int layer = 0; layer < 72; ++layer) {
    Tensor w = (randn({3, 3, 3, 3}, kFloat64) * 0.3).requires_grad_();
    Tensor b = zeros({3}, kFloat64).requires_grad_();
    h = relu(conv2d(h, w, b, /*stride=*/1, /*padding=*/1)) + h * 0.5;
    parameters.push_back(w);
    parameters.push_back(b);
  }
  Tensor loss = max_pool2d(h, 2).mean();
  loss.backward();
  const Counts expected = graph_counts(loss);
  ASSERT_GE(expected.nodes, 300u);
  const std::string path = ::testing::TempDir() + "xgrad_to_html_cnn.html";
  recorder.write(loss, path);
  const std::string dom = dump_dom(path);
  std::remove(path.c_str());
  ASSERT_NE(dom.find("id=\"selftest\""), std::string::npos) << "the page's script did not finish";
  EXPECT_EQ(count(dom, "<g class=\"node "), expected.nodes);
  EXPECT_EQ(count(dom, "<path class=\"edge"), expected.edges);
  // Stepping visited every node once: the page's list of the engine's order has one item per node.
  const std::size_t list_begin = dom.find("<ol id=\"visited\">");
  ASSERT_NE(list_begin, std::string::npos);
  const std::string list = dom.substr(list_begin, dom.find("</ol>", list_begin) - list_begin);
  EXPECT_EQ(count(list, "<li data-node="), expected.nodes);
  EXPECT_EQ(order.names.size(), expected.nodes);
}

using testing::Blocks;

std::string attribute(const std::string& element, const std::string& name) {
  std::smatch match;
  const std::regex pattern(" " + name + "=\"([^\"]*)\"");
  return std::regex_search(element, match, pattern) ? match[1].str() : "";
}

// Above the collapsing size, each block opens as one box: stepping lights the box while one of its
// nodes runs, a click on a box shows its nodes, and a click on its frame hides them again.
TEST(ToHtmlBrowser, RepeatedBlocksOpenAsBoxesThatExpandAndStillStepInTheEnginesOrder) {
  if (!have_chromium()) GTEST_SKIP() << "chromium is not installed (./install-deps.sh --chromium installs it)";
  manual_seed(7);
  Blocks model(20);
  HtmlRecorder recorder;
  NameLog order;
  Tensor loss = model(randn({2, 3})).sum();
  loss.backward();
  const Counts expected = graph_counts(loss);
  ASSERT_EQ(expected.nodes, 221u);
  const std::string path = ::testing::TempDir() + "xgrad_to_html_blocks.html";
  recorder.write(loss, path);
  const std::string dom = dump_dom(path);
  std::remove(path.c_str());
  ASSERT_NE(dom.find("id=\"selftest\""), std::string::npos) << "the page's script did not finish";

  // Each block's ten nodes (two linear layers' weight, bias and addmm, the tanh, the scale, its view
  // and the product) are one box; the residual adds and the sum stay visible.
  EXPECT_EQ(count(dom, "<g class=\"box"), 20u);
  EXPECT_EQ(count(dom, "<g class=\"node "), expected.nodes - 20 * 10);

  // Stepping visits every node once in the engine's order; a node inside a box lights its box.
  const std::size_t list_begin = dom.find("<ol id=\"visited\">");
  ASSERT_NE(list_begin, std::string::npos);
  const std::string list = dom.substr(list_begin, dom.find("</ol>", list_begin) - list_begin);
  const std::regex item(R"re(<li data-node="(\d+)"( data-box="([^"]*)")?>([A-Za-z0-9]+)</li>)re");
  std::vector<std::string> names;
  std::vector<int> ids;
  std::size_t in_boxes = 0;
  for (std::sregex_iterator it(list.begin(), list.end(), item), end; it != end; ++it) {
    ids.push_back(std::stoi((*it)[1]));
    names.push_back((*it)[4]);
    if ((*it)[2].matched) {
      ++in_boxes;
      const std::string box = (*it)[3];
      EXPECT_TRUE(std::regex_match(box, std::regex("blocks\\.\\d+"))) << box;
    }
  }
  EXPECT_EQ(names, order.names);
  EXPECT_EQ(in_boxes, 20u * 10u);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()) - ids.begin(), static_cast<std::ptrdiff_t>(expected.nodes));

  // A click on the first box shows its ten nodes in place of the box; a click on its frame hides them.
  const std::size_t expand_at = dom.find("<p id=\"expand\"");
  ASSERT_NE(expand_at, std::string::npos);
  const std::string expand = dom.substr(expand_at, dom.find('>', expand_at) - expand_at);
  EXPECT_EQ(attribute(expand, "data-members"), "10");
  const int before = std::stoi(attribute(expand, "data-before"));
  EXPECT_EQ(std::stoi(attribute(expand, "data-expanded")), before + 10);
  EXPECT_EQ(attribute(expand, "data-boxes-left"), "19");
  EXPECT_EQ(std::stoi(attribute(expand, "data-after")), before);
}

}  // namespace
}  // namespace xgrad
