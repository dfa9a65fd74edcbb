// to_html and HtmlRecorder without a browser: the data the page carries (read back as JSON) and the
// errors. tests/core/test_html_browser.cpp checks what the page's script makes of it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "compare.hpp"
#include "residual_blocks.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

// The JSON object the page's script reads.
nlohmann::json page_data(const std::string& page) {
  const std::string open = "<script id=\"graph-data\" type=\"application/json\">";
  const std::size_t begin = page.find(open);
  EXPECT_NE(begin, std::string::npos);
  const std::size_t end = page.find("</script>", begin);
  return nlohmann::json::parse(page.substr(begin + open.size(), end - begin - open.size()));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct NameLog final : autograd::GraphObserver {
  void ran(const std::shared_ptr<Node>& node, const Tensor&, const gradient_list&) override {
    names.push_back(node->name());
  }
  std::vector<std::string> names;
};

TEST(ToHtml, RecorderReplaysThePlainBackwardInTheEnginesOrder) {
  Tensor w = tensor({0.5, -1.0}, kFloat64).requires_grad_();
  w.set_name("w");
  Tensor x = tensor({2.0, 3.0}, kFloat64);
  HtmlRecorder recorder;
  NameLog order;
  Tensor h = tanh(w * x);
  Tensor loss = (h * w).sum();  // w is read twice: by the product with x and by the one with h
  loss.backward();
  const nlohmann::json data = page_data(recorder.html(loss));

  // Nodes: Sum, Mul, Tanh, Mul, AccumulateGrad(w); edges: Sum<-Mul, Mul<-Tanh, Mul<-w, Tanh<-Mul, Mul<-w.
  ASSERT_EQ(data["nodes"].size(), 5u);
  std::size_t edges = 0;
  for (const auto& node : data["nodes"])
    for (const auto& input : node["inputs"]) edges += input.get<int>() >= 0;
  EXPECT_EQ(edges, 5u);
  ASSERT_EQ(data["steps"].size(), order.names.size());
  for (std::size_t k = 0; k < order.names.size(); ++k)
    EXPECT_EQ(data["nodes"][data["steps"][k]["node"].get<int>()]["name"], order.names[k]) << "step " << k;
  EXPECT_TRUE(data["accumulated"].get<bool>());
  EXPECT_EQ(data["nodes"][0]["name"], "SumBackward0");
  EXPECT_TRUE(data["nodes"][0]["root"].get<bool>());

  // The leaf shows its grad() and its value; the ops show their recorded output values.
  for (const auto& node : data["nodes"]) {
    if (node["kind"] == "leaf") {
      EXPECT_EQ(node["label"], "w");
      const std::vector<double> grad = w.grad().to_vector<double>();
      ASSERT_EQ(node["grad"]["values"].size(), 2u);
      EXPECT_NEAR(node["grad"]["values"][0].get<double>(), grad[0], 1e-12);
      EXPECT_NEAR(node["grad"]["values"][1].get<double>(), grad[1], 1e-12);
      EXPECT_EQ(node["value"]["values"][1].get<double>(), -1.0);
    } else {
      EXPECT_FALSE(node["value"].is_null()) << node["name"];
    }
    // Every node's derivative in words (Node::formula()), one line per input; the leaf's says what it does.
    EXPECT_EQ(node["formula"].size(), node["kind"] == "leaf" ? 1u : node["inputs"].size()) << node["name"];
    if (node["name"] == "TanhBackward0") EXPECT_EQ(node["formula"][0], "d tanh(x) = g * (1 - y^2)");
    if (node["name"] == "MulBackward0") EXPECT_EQ(node["formula"].size(), 2u);
  }
  // The leaf's step receives the sum of what both products sent it.
  const auto& last = data["steps"].back();
  EXPECT_EQ(data["nodes"][last["node"].get<int>()]["kind"], "leaf");
  EXPECT_NEAR(last["grad"]["values"][0].get<double>(), w.grad().to_vector<double>()[0], 1e-12);
}

TEST(ToHtml, RunsItsOwnPassBeforeBackwardAndLeavesGradUntouched) {
  Tensor a = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor loss = (a * a).mean();
  const std::string path = ::testing::TempDir() + "xgrad_to_html_own_pass.html";
  to_html(loss, path, HtmlOptions().title("mean of squares"));
  EXPECT_FALSE(a.grad().defined());
  const nlohmann::json data = page_data(read_file(path));
  EXPECT_EQ(data["title"], "mean of squares");
  EXPECT_FALSE(data["accumulated"].get<bool>());
  ASSERT_EQ(data["steps"].size(), 3u);
  // d mean(a^2) = 2a / 3
  const auto& leaf_step = data["steps"][2];
  EXPECT_NEAR(leaf_step["grad"]["values"][2].get<double>(), 2.0, 1e-12);
  // The graph still holds its saved values: a backward afterwards works.
  loss.backward();
  EXPECT_NEAR(a.grad().to_vector<double>()[2], 2.0, 1e-12);
  std::remove(path.c_str());
}

TEST(ToHtml, UsesTheLiveRecorderAfterAPlainBackward) {
  Tensor a = tensor({1.0, -2.0}, kFloat64).requires_grad_();
  HtmlRecorder recorder;
  Tensor loss = relu(a).sum();
  loss.backward();
  const std::string path = ::testing::TempDir() + "xgrad_to_html_recorder.html";
  to_html(loss, path);
  const nlohmann::json data = page_data(read_file(path));
  EXPECT_TRUE(data["accumulated"].get<bool>());
  EXPECT_EQ(data["steps"].size(), 3u);
  std::remove(path.c_str());
}

TEST(ToHtml, LargeTensorsAsSummariesNanAndInfinityAsSuch) {
  Tensor big = arange(100).to(kFloat64).requires_grad_();
  Tensor odd = tensor({0.0, 1.0}, kFloat64).requires_grad_();
  HtmlRecorder recorder(HtmlOptions().max_values(10));
  Tensor loss = big.sum() + log(odd).sum();  // log(0) = -inf; d log(x) = 1/x: inf at 0
  loss.backward();
  const nlohmann::json data = page_data(recorder.html(loss));
  bool saw_summary = false, saw_inf = false;
  for (const auto& node : data["nodes"]) {
    if (node["kind"] == "leaf" && node["shape"] == std::vector<int>{100}) {
      EXPECT_FALSE(node["value"].contains("values"));
      EXPECT_EQ(node["value"]["min"].get<double>(), 0.0);
      EXPECT_EQ(node["value"]["mean"].get<double>(), 49.5);
      EXPECT_EQ(node["value"]["max"].get<double>(), 99.0);
      saw_summary = true;
    }
    if (node["kind"] == "leaf" && node["shape"] == std::vector<int>{2}) {
      EXPECT_EQ(node["grad"]["values"][0], "inf");
      EXPECT_EQ(node["grad"]["inf"].get<int>(), 1);
      saw_inf = true;
    }
    if (node["name"] == "LogBackward0") EXPECT_EQ(node["value"]["values"][0], "-inf");
  }
  EXPECT_TRUE(saw_summary);
  EXPECT_TRUE(saw_inf);
}

TEST(ToHtml, PageLoadsNothingFromOutside) {
  Tensor a = tensor({1.0}, kFloat64).requires_grad_();
  a.set_name("</script><script>alert(1)</script>");
  HtmlRecorder recorder;
  Tensor loss = (a * 2.0).sum();
  loss.backward();
  const std::string page = recorder.html(loss);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("https:"), std::string::npos);
  // A name cannot close the data's <script> element.
  EXPECT_EQ(page.find("alert(1)</script>"), std::string::npos);
  EXPECT_EQ(page_data(page)["nodes"][2]["label"], "</script><script>alert(1)</script>");
}

// ---- module groups -------------------------------------------------------------------------------

using testing::Blocks;

// (a leaf's label or an op's name, its group, its box), sorted: the assignment whatever the numbering.
using Membership = std::vector<std::tuple<std::string, std::string, std::string>>;
Membership memberships(const nlohmann::json& data) {
  Membership found;
  for (const auto& node : data["nodes"])
    found.emplace_back(node["kind"] == "leaf" ? node["label"] : node["name"], node["group"], node["box"]);
  std::sort(found.begin(), found.end());
  return found;
}

TEST(ToHtml, GroupsASequentialsNodesByTheModulesOfTheParametersTheyRead) {
  manual_seed(1);
  nn::Sequential model{nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 2)};
  HtmlRecorder recorder;
  Tensor loss = model->forward(randn({5, 3})).sum();
  loss.backward();
  const std::string page = recorder.html(loss);
  const nlohmann::json data = page_data(page);
  // The linear layers' ops join their parameters; tanh lies between "0" and "2", which share no
  // module, and the sum has no group above it: both are top level. "0" and "2" differ only in the
  // index: they are the repeated modules, but a graph this small is not collapsed.
  Membership expected = {{"0.weight", "0", "0"},       {"0.bias", "0", "0"},       {"AddmmBackward0", "0", "0"},
                         {"2.weight", "2", "2"},       {"2.bias", "2", "2"},       {"AddmmBackward0", "2", "2"},
                         {"TanhBackward0", "", ""},    {"SumBackward0", "", ""}};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(memberships(data), expected);
  EXPECT_EQ(data["collapse"], false);
  EXPECT_EQ(recorder.html(loss), page);  // deterministic
}

TEST(ToHtml, GroupsAModuleListOfBlocksAndCollapsesThemOnlyInALargeGraph) {
  manual_seed(2);
  Blocks model(3);
  HtmlRecorder recorder;
  Tensor loss = model(randn({2, 3})).sum();
  loss.backward();
  const nlohmann::json data = page_data(recorder.html(loss));
  Membership expected;
  for (int i = 0; i < 3; ++i) {
    const std::string block = "blocks." + std::to_string(i);
    for (const std::string fc : {".fc1", ".fc2"}) {
      for (const std::string name : {".weight", ".bias"}) expected.emplace_back(block + fc + name, block + fc, block);
      expected.emplace_back("AddmmBackward0", block + fc, block);
    }
    // The block's own parameter, the view of it and the product reading that view are the block's;
    // tanh lies between fc1 and fc2 of the same block.
    expected.emplace_back(block + ".scale", block, block);
    expected.emplace_back("ViewBackward0", block, block);
    expected.emplace_back("MulBackward0", block, block);
    expected.emplace_back("TanhBackward0", block, block);
  }
  // The residual adds lie between one block and the next (the ModuleList "blocks"); the last one and
  // the sum have no group above them.
  expected.emplace_back("AddBackward0", "blocks", "");
  expected.emplace_back("AddBackward0", "blocks", "");
  expected.emplace_back("AddBackward0", "", "");
  expected.emplace_back("SumBackward0", "", "");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(memberships(data), expected);
  EXPECT_EQ(data["collapse"], false);

  Blocks large(20);  // 221 nodes: above the size from which repeated modules open collapsed
  Tensor large_loss = large(randn({2, 3})).sum();
  large_loss.backward();
  const nlohmann::json large_data = page_data(recorder.html(large_loss));
  EXPECT_EQ(large_data["nodes"].size(), 221u);
  EXPECT_EQ(large_data["collapse"], true);
  std::size_t boxed = 0;
  for (const auto& node : large_data["nodes"]) boxed += node["box"] != "";
  EXPECT_EQ(boxed, 20u * 10u);
}

TEST(ToHtml, BadInputsNameTheReason) {
  EXPECT_TRUE(throws_error_containing([] { to_html(Tensor(), "x.html"); }, {"to_html", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { to_html(ones({2}), "x.html"); }, {"to_html", "[2]", "no graph"}));
  Tensor a = tensor({1.0}, kFloat64).requires_grad_();
  Tensor loss = (a * 2.0).sum();
  EXPECT_TRUE(throws_error_containing([&] { to_html(loss, "/no-such-folder/x.html"); },
                                      {"to_html", "/no-such-folder/x.html"}));
  loss.backward();
  EXPECT_TRUE(throws_error_containing([&] { to_html(loss, "x.html"); },
                                      {"to_html", "freed by a backward()", "HtmlRecorder"}));
  Tensor vector_root = tensor({1.0, 2.0}, kFloat64).requires_grad_() * 2.0;
  EXPECT_TRUE(throws_error_containing([&] { to_html(vector_root, "x.html"); }, {"to_html", "one-element"}));
}

}  // namespace
}  // namespace xgrad
