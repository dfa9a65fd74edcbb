// The recurrent cells as ATen's free functions (rnn_tanh_cell, rnn_relu_cell, lstm_cell, gru_cell):
// values and gradients of every argument against PyTorch's nn.*Cell fixtures (rnn.json's "cell"
// cases, float32 and float64, random upstreams), gradcheck and gradgradcheck in float64, and the
// errors worded as ATen's. The modules and the multi-layer loop are tested in tests/nn.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::leaf;
using testing::matches_golden;
using testing::throws_error_containing;

// The fixture's parameter by name, or undefined when the cell has no bias.
Tensor parameter(const Json& c, const std::string& name) {
  for (const Json& entry : c.at("params"))
    if (entry[0] == name) return golden_tensor(entry[1]).requires_grad_();
  return {};
}

TEST(RecurrentCellOps, MatchPyTorch) {
  const std::vector<Json> cases = golden_cases("rnn.json", "cell");
  ASSERT_EQ(cases.size(), 12u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Tensor input = golden_tensor(c.at("input")).requires_grad_();
    const bool unbatched = input.dim() == 1;
    const Tensor x = unbatched ? input.unsqueeze(0) : input;
    const std::int64_t hidden = c.at("options").at("hidden_size");
    const std::string kind = c.at("module");
    std::vector<Tensor> states;
    for (const Json& s : c.at("states")) states.push_back(golden_tensor(s).requires_grad_());
    const auto batched = [&](std::size_t i) {
      if (i >= states.size()) return zeros({x.size(0), hidden}, x.dtype());
      return unbatched ? states[i].unsqueeze(0) : states[i];
    };
    const Tensor w_ih = parameter(c, "weight_ih"), w_hh = parameter(c, "weight_hh");
    const Tensor b_ih = parameter(c, "bias_ih"), b_hh = parameter(c, "bias_hh");
    Tensor h;
    std::vector<Tensor> finals;
    if (kind == "LSTMCell") {
      auto [h1, c1] = lstm_cell(x, {batched(0), batched(1)}, w_ih, w_hh, b_ih, b_hh);
      h = h1;
      finals.push_back(unbatched ? c1.squeeze(0) : c1);
    } else if (kind == "GRUCell") {
      h = gru_cell(x, batched(0), w_ih, w_hh, b_ih, b_hh);
    } else if (c.at("options").at("nonlinearity") == "relu") {
      h = rnn_relu_cell(x, batched(0), w_ih, w_hh, b_ih, b_hh);
    } else {
      h = rnn_tanh_cell(x, batched(0), w_ih, w_hh, b_ih, b_hh);
    }
    if (unbatched) h = h.squeeze(0);
    EXPECT_TRUE(matches_golden(h, golden_tensor(c.at("output"))));
    Tensor loss = (h * golden_tensor(c.at("upstream")[0])).sum();
    for (std::size_t i = 0; i < finals.size(); ++i) {
      EXPECT_TRUE(matches_golden(finals[i], golden_tensor(c.at("finals")[i])));
      loss = loss + (finals[i] * golden_tensor(c.at("upstream")[i + 1])).sum();
    }
    loss.backward();
    EXPECT_TRUE(matches_golden(input.grad(), golden_tensor(c.at("grad_input"))));
    for (std::size_t i = 0; i < states.size(); ++i)
      EXPECT_TRUE(matches_golden(states[i].grad(), golden_tensor(c.at("grad_states")[i])));
    const std::map<std::string, Tensor> by_name{
        {"weight_ih", w_ih}, {"weight_hh", w_hh}, {"bias_ih", b_ih}, {"bias_hh", b_hh}};
    for (const Json& entry : c.at("param_grads"))
      EXPECT_TRUE(matches_golden(by_name.at(entry[0]).grad(), golden_tensor(entry[1]))) << entry[0].get<std::string>();
  }
}

TEST(RecurrentCellOps, DifferentiateTwice) {
  manual_seed(31);
  const Tensor x = leaf({2, 3}), h = leaf({2, 2}), c = leaf({2, 2});
  const auto weights = [](std::int64_t gates) {
    return std::vector<Tensor>{leaf({gates * 2, 3}), leaf({gates * 2, 2}), leaf({gates * 2}), leaf({gates * 2})};
  };
  const std::vector<Tensor> one = weights(1), three = weights(3), four = weights(4);
  const auto rnn_tanh = [](const std::vector<Tensor>& in) { return rnn_tanh_cell(in[0], in[1], in[2], in[3], in[4], in[5]); };
  const auto rnn_relu = [](const std::vector<Tensor>& in) { return rnn_relu_cell(in[0], in[1], in[2], in[3], in[4], in[5]); };
  const auto gru = [](const std::vector<Tensor>& in) { return gru_cell(in[0], in[1], in[2], in[3], in[4], in[5]); };
  const auto lstm = [](const std::vector<Tensor>& in) {
    auto [h1, c1] = lstm_cell(in[0], {in[1], in[6]}, in[2], in[3], in[4], in[5]);
    return cat({h1.reshape({-1}), c1.reshape({-1})});
  };
  for (const auto& [fn, w] : std::vector<std::pair<std::function<Tensor(const std::vector<Tensor>&)>, std::vector<Tensor>>>{
           {rnn_tanh, one}, {rnn_relu, one}, {gru, three}}) {
    const std::vector<Tensor> inputs{x, h, w[0], w[1], w[2], w[3]};
    EXPECT_TRUE(testing::passes_gradcheck(fn, inputs));
    EXPECT_TRUE(testing::passes_gradgradcheck(fn, inputs));
  }
  const std::vector<Tensor> inputs{x, h, four[0], four[1], four[2], four[3], c};
  EXPECT_TRUE(testing::passes_gradcheck(lstm, inputs));
  EXPECT_TRUE(testing::passes_gradgradcheck(lstm, inputs));
  // Without biases.
  EXPECT_TRUE(testing::passes_gradcheck([](const std::vector<Tensor>& in) { return gru_cell(in[0], in[1], in[2], in[3]); },
                                        {x, h, three[0], three[1]}));
}

TEST(RecurrentCellOps, BadArgumentsAreErrorsWordedAsATen) {
  const Tensor w_ih = randn({12, 3}), w_hh = randn({12, 4});
  EXPECT_TRUE(throws_error_containing([&] { gru_cell(randn({2, 5}), randn({2, 4}), w_ih, w_hh); },
                                      {"gru_cell", "input has inconsistent input_size: got 5 expected 3"}));
  EXPECT_TRUE(throws_error_containing([&] { gru_cell(randn({2, 3}), randn({3, 4}), w_ih, w_hh); },
                                      {"gru_cell", "Input batch size 2 doesn't match hidden0 batch size 3"}));
  EXPECT_TRUE(throws_error_containing([&] { rnn_tanh_cell(randn({2, 3}), randn({2, 5}), randn({4, 3}), randn({4, 4})); },
                                      {"rnn_tanh_cell", "hidden0 has inconsistent hidden_size: got 5, expected 4"}));
  EXPECT_TRUE(throws_error_containing([&] { lstm_cell(randn({2, 3}), {randn({2, 4})}, w_ih, w_hh); },
                                      {"lstm_cell", "hx must hold two tensors"}));
  EXPECT_TRUE(throws_error_containing([&] { rnn_relu_cell(randn({3}), randn({4}), randn({4, 3}), randn({4, 4})); },
                                      {"rnn_relu_cell", "input must be 2-D (batch, input_size), got 1-D"}));
}

}  // namespace
}  // namespace xgrad
