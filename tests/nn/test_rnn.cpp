// RNN, LSTM, GRU and their cells against PyTorch (tests/golden/rnn.json, from make_golden_rnn.py):
// outputs, final states, and the gradients of the input, the initial states and every parameter
// for random upstream gradients on the output and on every final state, in float32 and float64.
// Also: parameter names and shapes, initialisation, a state_dict written by numpy.savez, gradcheck
// and gradgradcheck of each kind, dropout between layers, printing and PyTorch's errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <xgrad/ops/recurrent_impl.hpp>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::passes_gradgradcheck;
using testing::printed;
using testing::throws_error_containing;

// ---- running a fixture's module -------------------------------------------------------------------

std::shared_ptr<nn::Module> build(const Json& c) {
  const Json& o = c.at("options");
  const std::int64_t in = o.at("input_size"), hidden = o.at("hidden_size");
  const std::string kind = c.at("module");
  const bool relu = o.at("nonlinearity") == "relu";
  if (kind == "RNN") {
    nn::RNNOptions options(in, hidden);
    options.num_layers(o.at("num_layers")).bias(o.at("bias")).batch_first(o.at("batch_first"));
    options.bidirectional(o.at("bidirectional"));
    if (relu) options.nonlinearity(kReLU);
    return nn::RNN(options).ptr();
  }
  if (kind == "LSTM") {
    nn::LSTMOptions options(in, hidden);
    options.num_layers(o.at("num_layers")).bias(o.at("bias")).batch_first(o.at("batch_first"));
    options.bidirectional(o.at("bidirectional")).proj_size(o.at("proj_size"));
    return nn::LSTM(options).ptr();
  }
  if (kind == "GRU") {
    nn::GRUOptions options(in, hidden);
    options.num_layers(o.at("num_layers")).bias(o.at("bias")).batch_first(o.at("batch_first"));
    options.bidirectional(o.at("bidirectional"));
    return nn::GRU(options).ptr();
  }
  if (kind == "RNNCell") {
    nn::RNNCellOptions options(in, hidden);
    options.bias(o.at("bias"));
    if (relu) options.nonlinearity(kReLU);
    return nn::RNNCell(options).ptr();
  }
  if (kind == "LSTMCell") return nn::LSTMCell(nn::LSTMCellOptions(in, hidden).bias(o.at("bias"))).ptr();
  return nn::GRUCell(nn::GRUCellOptions(in, hidden).bias(o.at("bias"))).ptr();
}

// PyTorch's parameter values, after checking that the names come in PyTorch's order.
void load_parameters(nn::Module& module, const Json& c) {
  if (c.at("dtype") == "float64") module.to(kFloat64);
  std::vector<std::string> names;
  for (const Json& entry : c.at("params")) names.push_back(entry[0]);
  ASSERT_EQ(module.named_parameters().keys(), names);
  NoGradGuard no_grad;
  for (const Json& entry : c.at("params")) module.named_parameters()[entry[0].get<std::string>()].copy_(golden_tensor(entry[1]));
}

struct Outcome {
  Tensor output;
  std::vector<Tensor> finals;
};

// The module's output and final states (h_n and c_n for a layer; c' for an LSTMCell, whose h' is
// the output), from optional initial states.
Outcome call(nn::Module& module, const Tensor& input, const std::vector<Tensor>& states) {
  const Tensor none;
  if (auto* lstm = module.as<nn::LSTMImpl>()) {
    auto [out, hc] = states.empty() ? lstm->forward(input) : lstm->forward(input, std::make_tuple(states[0], states[1]));
    return {out, {std::get<0>(hc), std::get<1>(hc)}};
  }
  if (auto* rnn = module.as<nn::RNNImpl>()) {
    auto [out, h] = rnn->forward(input, states.empty() ? none : states[0]);
    return {out, {h}};
  }
  if (auto* gru = module.as<nn::GRUImpl>()) {
    auto [out, h] = gru->forward(input, states.empty() ? none : states[0]);
    return {out, {h}};
  }
  if (auto* cell = module.as<nn::LSTMCellImpl>()) {
    auto [h, c] = states.empty() ? cell->forward(input) : cell->forward(input, std::make_tuple(states[0], states[1]));
    return {h, {c}};
  }
  if (auto* cell = module.as<nn::RNNCellImpl>()) return {cell->forward(input, states.empty() ? none : states[0]), {}};
  return {module.as<nn::GRUCellImpl>()->forward(input, states.empty() ? none : states[0]), {}};
}

// The same for a layer on a PackedSequence: the output is the packed data.
Outcome call_packed(nn::Module& module, const nn::utils::rnn::PackedSequence& packed, const std::vector<Tensor>& states,
                    nn::utils::rnn::PackedSequence& packed_output) {
  const Tensor none;
  if (auto* lstm = module.as<nn::LSTMImpl>()) {
    auto [out, hc] = states.empty() ? lstm->forward_with_packed_input(packed)
                                    : lstm->forward_with_packed_input(packed, std::make_tuple(states[0], states[1]));
    packed_output = out;
    return {out.data(), {std::get<0>(hc), std::get<1>(hc)}};
  }
  if (auto* rnn = module.as<nn::RNNImpl>()) {
    auto [out, h] = rnn->forward_with_packed_input(packed, states.empty() ? none : states[0]);
    packed_output = out;
    return {out.data(), {h}};
  }
  auto [out, h] = module.as<nn::GRUImpl>()->forward_with_packed_input(packed, states.empty() ? none : states[0]);
  packed_output = out;
  return {out.data(), {h}};
}

void expect_matches_case(const Json& c) {
  SCOPED_TRACE(c.at("name").get<std::string>());
  const std::shared_ptr<nn::Module> module = build(c);
  load_parameters(*module, c);
  const Tensor input = golden_tensor(c.at("input")).requires_grad_();
  std::vector<Tensor> states;
  for (const Json& state : c.at("states")) states.push_back(golden_tensor(state).requires_grad_());

  Outcome outcome;
  if (c.at("fn") == "packed") {
    const Json& o = c.at("options");
    const auto packed = nn::utils::rnn::pack_padded_sequence(input, tensor(c.at("lengths").get<std::vector<std::int64_t>>()),
                                                             o.at("batch_first"), /*enforce_sorted=*/false);
    EXPECT_TRUE(matches_golden(packed.data(), golden_tensor(c.at("packed_input"))));
    EXPECT_TRUE(matches_golden(packed.batch_sizes(), golden_tensor(c.at("batch_sizes"))));
    EXPECT_TRUE(matches_golden(packed.sorted_indices(), golden_tensor(c.at("sorted_indices"))));
    nn::utils::rnn::PackedSequence packed_output;
    outcome = call_packed(*module, packed, states, packed_output);
    auto [padded, lengths] = nn::utils::rnn::pad_packed_sequence(packed_output, o.at("batch_first"));
    EXPECT_TRUE(matches_golden(padded, golden_tensor(c.at("padded_output"))));
    EXPECT_TRUE(matches_golden(lengths, golden_tensor(c.at("padded_lengths"))));
  } else {
    outcome = call(*module, input, states);
  }

  EXPECT_TRUE(matches_golden(outcome.output, golden_tensor(c.at("output"))));
  ASSERT_EQ(outcome.finals.size(), c.at("finals").size());
  for (std::size_t i = 0; i < outcome.finals.size(); ++i)
    EXPECT_TRUE(matches_golden(outcome.finals[i], golden_tensor(c.at("finals")[i]))) << "final state " << i;

  const Json& up = c.at("upstream");
  Tensor loss = (outcome.output * golden_tensor(up[0])).sum();
  for (std::size_t i = 0; i < outcome.finals.size(); ++i) loss = loss + (outcome.finals[i] * golden_tensor(up[i + 1])).sum();
  loss.backward();
  EXPECT_TRUE(matches_golden(input.grad(), golden_tensor(c.at("grad_input"))));
  for (std::size_t i = 0; i < states.size(); ++i)
    EXPECT_TRUE(matches_golden(states[i].grad(), golden_tensor(c.at("grad_states")[i]))) << "state " << i;
  const auto parameters = module->named_parameters();
  for (const Json& entry : c.at("param_grads")) {
    const std::string name = entry[0];
    EXPECT_TRUE(matches_golden(parameters[name].grad(), golden_tensor(entry[1]))) << name;
  }
}

TEST(RecurrentLayers, MatchPyTorch) {
  const std::vector<Json> cases = golden_cases("rnn.json", "layer");
  ASSERT_EQ(cases.size(), 22u);
  for (const Json& c : cases) expect_matches_case(c);
}

TEST(RecurrentCells, MatchPyTorch) {
  const std::vector<Json> cases = golden_cases("rnn.json", "cell");
  ASSERT_EQ(cases.size(), 12u);
  for (const Json& c : cases) expect_matches_case(c);
}

TEST(RecurrentLayers, PackedUnsortedInputMatchesPyTorch) {
  const std::vector<Json> cases = golden_cases("rnn.json", "packed");
  ASSERT_EQ(cases.size(), 6u);
  for (const Json& c : cases) expect_matches_case(c);
}

TEST(RecurrentLayers, StateDictSavedByNumpyLoadsAndGivesPyTorchsOutput) {
  const Json c = golden_cases("rnn.json", "npz").at(0);
  nn::LSTM lstm(nn::LSTMOptions(4, 6).num_layers(2).proj_size(3).bidirectional(true));
  xgrad::load(*lstm, testing::golden_path(c.at("file")));
  auto [output, state] = lstm(golden_tensor(c.at("input")));
  EXPECT_TRUE(matches_golden(output, golden_tensor(c.at("output"))));
  EXPECT_TRUE(matches_golden(std::get<0>(state), golden_tensor(c.at("finals")[0])));
  EXPECT_TRUE(matches_golden(std::get<1>(state), golden_tensor(c.at("finals")[1])));
}

// ---- names, shapes, initialisation -----------------------------------------------------------------

TEST(RecurrentLayers, ParametersUnderPyTorchsNamesAndShapes) {
  nn::LSTM lstm(nn::LSTMOptions(8, 16).num_layers(2).bidirectional(true).proj_size(4));
  const auto parameters = lstm->named_parameters();
  EXPECT_EQ(parameters.keys(),
            (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
                                      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse",
                                      "bias_hh_l0_reverse", "weight_hr_l0_reverse", "weight_ih_l1", "weight_hh_l1",
                                      "bias_ih_l1", "bias_hh_l1", "weight_hr_l1", "weight_ih_l1_reverse",
                                      "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
                                      "weight_hr_l1_reverse"}));
  EXPECT_EQ(parameters["weight_ih_l0"].sizes(), (std::vector<std::int64_t>{64, 8}));
  EXPECT_EQ(parameters["weight_hh_l0"].sizes(), (std::vector<std::int64_t>{64, 4}));
  EXPECT_EQ(parameters["weight_hr_l0"].sizes(), (std::vector<std::int64_t>{4, 16}));
  EXPECT_EQ(parameters["weight_ih_l1"].sizes(), (std::vector<std::int64_t>{64, 8}));
  EXPECT_EQ(lstm->all_weights().size(), 20u);
  lstm->flatten_parameters();

  nn::GRU gru(nn::GRUOptions(3, 5).bias(false));
  EXPECT_EQ(gru->named_parameters().keys(), (std::vector<std::string>{"weight_ih_l0", "weight_hh_l0"}));
}

TEST(RecurrentLayers, EveryParameterStartsUniformInOneOverSqrtHidden) {
  manual_seed(7);
  nn::LSTM lstm(nn::LSTMOptions(3, 16).num_layers(2));
  nn::GRUCell cell(3, 16);
  std::vector<Tensor> parameters = lstm->parameters();
  for (const Tensor& p : cell->parameters()) parameters.push_back(p);
  for (const Tensor& p : parameters) {
    EXPECT_LE(p.abs().max().item<float>(), 0.25f);
    EXPECT_GT(p.abs().max().item<float>(), 0.2f);  // drawn, not left at zero
  }
}

TEST(RecurrentLayers, ShapesOfOutputsAndStates) {
  nn::LSTM lstm(nn::LSTMOptions(8, 16).num_layers(2).batch_first(true));
  auto [seq, state] = lstm->forward(randn({3, 5, 8}));
  EXPECT_EQ(seq.sizes(), (std::vector<std::int64_t>{3, 5, 16}));
  EXPECT_EQ(std::get<0>(state).sizes(), (std::vector<std::int64_t>{2, 3, 16}));
  EXPECT_EQ(std::get<1>(state).sizes(), (std::vector<std::int64_t>{2, 3, 16}));
  EXPECT_TRUE(lstm->named_parameters().contains("weight_hh_l1"));
  nn::GRU gru(nn::GRUOptions(16, 4));
  auto [out, h] = gru(seq.index({indexing::Slice(), -1}).unsqueeze(0));
  EXPECT_EQ(out.sizes(), (std::vector<std::int64_t>{1, 3, 4}));
  EXPECT_EQ(h.size(2), 4);
  nn::RNN rnn(nn::RNNOptions(4, 6).bidirectional(true).num_layers(3));
  auto [rnn_out, rnn_h] = rnn(randn({7, 4}));  // unbatched
  EXPECT_EQ(rnn_out.sizes(), (std::vector<std::int64_t>{7, 12}));
  EXPECT_EQ(rnn_h.sizes(), (std::vector<std::int64_t>{6, 6}));
  nn::LSTM projected(nn::LSTMOptions(4, 6).proj_size(2).bidirectional(true));
  auto [p_out, p_state] = projected(randn({5, 3, 4}));
  EXPECT_EQ(p_out.sizes(), (std::vector<std::int64_t>{5, 3, 4}));
  EXPECT_EQ(std::get<0>(p_state).sizes(), (std::vector<std::int64_t>{2, 3, 2}));
  EXPECT_EQ(std::get<1>(p_state).sizes(), (std::vector<std::int64_t>{2, 3, 6}));
}

// ---- gradients ---------------------------------------------------------------------------------------

// The module's output and final states flattened into one tensor, as a function of the input, the
// initial states and (through the module, perturbed in place by gradcheck) the parameters.
struct Checked {
  std::shared_ptr<nn::Module> module;
  std::vector<Tensor> inputs;  // input, states..., parameters...
  std::size_t state_count;

  Tensor operator()(const std::vector<Tensor>& in) const {
    const std::vector<Tensor> states(in.begin() + 1, in.begin() + 1 + static_cast<std::ptrdiff_t>(state_count));
    const Outcome outcome = call(*module, in[0], states);
    std::vector<Tensor> pieces{outcome.output.reshape({-1})};
    for (const Tensor& f : outcome.finals) pieces.push_back(f.reshape({-1}));
    return cat(pieces, 0);
  }
};

Checked checked(std::shared_ptr<nn::Module> module, const Shape& input_shape, const std::vector<Shape>& state_shapes) {
  module->to(kFloat64);
  Checked c{module, {testing::leaf(input_shape)}, state_shapes.size()};
  for (const Shape& shape : state_shapes) c.inputs.push_back(testing::leaf(shape));
  for (const Tensor& p : module->parameters()) c.inputs.push_back(p);
  return c;
}

std::vector<Checked> small_modules() {
  std::vector<Checked> all;
  all.push_back(checked(nn::RNN(nn::RNNOptions(2, 3)).ptr(), {3, 2, 2}, {{1, 2, 3}}));
  all.push_back(checked(nn::RNN(nn::RNNOptions(2, 2).nonlinearity(kReLU).bidirectional(true)).ptr(), {3, 2, 2}, {}));
  all.push_back(checked(nn::LSTM(nn::LSTMOptions(2, 2)).ptr(), {3, 2, 2}, {{1, 2, 2}, {1, 2, 2}}));
  all.push_back(checked(nn::LSTM(nn::LSTMOptions(2, 3).proj_size(2).batch_first(true)).ptr(), {2, 3, 2}, {}));
  all.push_back(checked(nn::GRU(nn::GRUOptions(2, 2)).ptr(), {3, 2, 2}, {{1, 2, 2}}));
  all.push_back(checked(nn::RNNCell(nn::RNNCellOptions(2, 3)).ptr(), {2, 2}, {{2, 3}}));
  all.push_back(checked(nn::LSTMCell(nn::LSTMCellOptions(2, 3)).ptr(), {2, 2}, {{2, 3}, {2, 3}}));
  all.push_back(checked(nn::GRUCell(nn::GRUCellOptions(2, 3)).ptr(), {2, 2}, {{2, 3}}));
  return all;
}

TEST(RecurrentLayers, Gradcheck) {
  manual_seed(11);
  for (const Checked& c : small_modules()) {
    SCOPED_TRACE(printed(*c.module));
    EXPECT_TRUE(passes_gradcheck(c, c.inputs));
  }
  // Deeper stacks: two bidirectional layers, with projections and a packed-like uneven batch.
  Checked deep = checked(nn::LSTM(nn::LSTMOptions(2, 3).num_layers(2).bidirectional(true).proj_size(1)).ptr(),
                         {3, 2, 2}, {{4, 2, 1}, {4, 2, 3}});
  EXPECT_TRUE(passes_gradcheck(deep, deep.inputs));
  Checked deep_gru = checked(nn::GRU(nn::GRUOptions(2, 2).num_layers(2).bidirectional(true)).ptr(), {3, 2, 2}, {});
  EXPECT_TRUE(passes_gradcheck(deep_gru, deep_gru.inputs));
}

TEST(RecurrentLayers, Gradgradcheck) {
  manual_seed(12);
  for (const Checked& c : small_modules()) {
    SCOPED_TRACE(printed(*c.module));
    EXPECT_TRUE(passes_gradgradcheck(c, c.inputs));
  }
}

// The fused layers (what the modules run) against their recorded steps, the definition: values and
// gradients for every shape the loop takes (backwards in time, projection, packed batches that
// shrink, no bias), and first derivatives through the fused node's create_graph path.
TEST(RecurrentLayers, FusedLayersAgreeWithTheirRecordedSteps) {
  manual_seed(21);
  using recurrent::CellKind;
  struct Setup {
    CellKind kind;
    bool bias, bidirectional;
    std::int64_t proj;
    std::vector<std::int64_t> batch_sizes;
  };
  const std::vector<Setup> setups{{CellKind::Lstm, true, false, 0, {3, 3, 3, 3}},
                                  {CellKind::Lstm, true, true, 2, {4, 3, 3, 1}},
                                  {CellKind::Lstm, false, true, 0, {2, 2, 1}},
                                  {CellKind::Lstm, true, false, 1, {3, 1}},
                                  {CellKind::Gru, true, true, 0, {4, 3, 3, 1}},
                                  {CellKind::Gru, false, false, 0, {2, 2, 2}},
                                  {CellKind::RnnTanh, true, true, 0, {3, 2, 1}},
                                  {CellKind::RnnRelu, true, true, 0, {3, 3, 1}}};
  const std::int64_t input = 2, hidden = 3, layers = 2;
  for (const Setup& setup : setups) {
    SCOPED_TRACE("setup " + std::to_string(&setup - setups.data()));
    const std::int64_t directions = setup.bidirectional ? 2 : 1, out = setup.proj ? setup.proj : hidden;
    const std::int64_t gates = recurrent::gate_count(setup.kind) * hidden;
    std::vector<recurrent::Weights> weights;
    std::vector<Tensor> leaves;
    for (std::int64_t l = 0; l < layers; ++l)
      for (std::int64_t d = 0; d < directions; ++d) {
        recurrent::Weights w{testing::leaf({gates, l == 0 ? input : out * directions}), testing::leaf({gates, out}),
                             {}, {}, {}};
        if (setup.bias) w.b_ih = testing::leaf({gates}), w.b_hh = testing::leaf({gates});
        if (setup.proj) w.w_hr = testing::leaf({out, hidden});
        for (const Tensor& t : {w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.w_hr})
          if (t.defined()) leaves.push_back(t);
        weights.push_back(w);
      }
    std::int64_t rows = 0;
    for (std::int64_t b : setup.batch_sizes) rows += b;
    const std::int64_t batch = setup.batch_sizes[0];
    const bool lstm = setup.kind == CellKind::Lstm;
    const Tensor data = testing::leaf({rows, input});
    const Tensor h0 = testing::leaf({layers * directions, batch, out});
    const Tensor c0 = lstm ? testing::leaf({layers * directions, batch, hidden}) : Tensor();
    leaves.insert(leaves.end(), {data, h0});
    if (lstm) leaves.push_back(c0);
    const recurrent::Packing packing =
        recurrent::Packing::from_batch_sizes("test", tensor(setup.batch_sizes), rows);
    const auto run = [&](bool fused) {
      recurrent::StackConfig config;
      config.kind = setup.kind;
      config.num_layers = layers;
      config.bidirectional = setup.bidirectional;
      config.fused = fused;
      const recurrent::StackResult r = recurrent::run_stack(data, packing, h0, c0, weights, config);
      std::vector<Tensor> pieces{r.output.reshape({-1}), r.h_n.reshape({-1})};
      if (r.c_n.defined()) pieces.push_back(r.c_n.reshape({-1}));
      return cat(pieces);
    };
    const Tensor fused = run(true), recorded = run(false);
    EXPECT_TRUE(testing::all_close(fused, recorded, 1e-12, 1e-12));
    const Tensor upstream = randn(fused.sizes(), kFloat64);
    const std::vector<Tensor> fast = autograd::grad({fused}, leaves, {upstream}, true, false);
    const std::vector<Tensor> reference = autograd::grad({recorded}, leaves, {upstream}, true, false);
    const std::vector<Tensor> through_create_graph = autograd::grad({fused}, leaves, {upstream}, true, true);
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      SCOPED_TRACE("leaf " + std::to_string(i));
      EXPECT_TRUE(testing::all_close(fast[i], reference[i], 1e-10, 1e-12));
      EXPECT_TRUE(testing::all_close(through_create_graph[i], reference[i], 1e-10, 1e-12));
    }
  }
}

TEST(RecurrentLayers, AFusedLayerRefusesWeightsModifiedBeforeBackward) {
  nn::GRU gru(3, 4);
  const Tensor out = std::get<0>(gru(randn({5, 2, 3})));
  {
    NoGradGuard no_grad;
    gru->named_parameters()["weight_hh_l0"].mul_(2);
  }
  EXPECT_TRUE(throws_error_containing([&] { out.sum().backward(); },
                                      {"GruLayerBackward", "modified by an inplace operation", "[12, 4]"}));
}

TEST(RecurrentLayers, ThirdDerivativesThroughTheFusedLayers) {
  manual_seed(22);
  Checked lstm = checked(nn::LSTM(nn::LSTMOptions(1, 1)).ptr(), {2, 1, 1}, {{1, 1, 1}, {1, 1, 1}});
  EXPECT_TRUE(testing::passes_third_order_check(lstm, lstm.inputs, 0));
  Checked gru = checked(nn::GRU(nn::GRUOptions(1, 1)).ptr(), {2, 1, 1}, {{1, 1, 1}});
  EXPECT_TRUE(testing::passes_third_order_check(gru, gru.inputs, 1));
}

// ---- training behaviour ------------------------------------------------------------------------------

TEST(RecurrentLayers, DropoutActsBetweenLayersInTrainingOnly) {
  manual_seed(3);
  nn::LSTM with(nn::LSTMOptions(4, 8).num_layers(2).dropout(0.5));
  nn::LSTM without(nn::LSTMOptions(4, 8).num_layers(2));
  {
    NoGradGuard no_grad;
    for (const auto& item : with->named_parameters()) without->named_parameters()[item.key()].copy_(item.value());
  }
  const Tensor x = randn({5, 3, 4});
  const Tensor reference = std::get<0>(without(x));
  EXPECT_FALSE(testing::all_close(std::get<0>(with(x)), reference, 1e-6, 1e-6));
  with->eval();
  EXPECT_TRUE(testing::all_close(std::get<0>(with(x)), reference, 0.0, 0.0));
}

// The first element of a sequence must be carried to its end: the gradient has to flow back through
// every step for the loss to fall.
TEST(RecurrentLayers, AnLstmLearnsToRememberTheFirstStep) {
  manual_seed(4);
  nn::LSTM lstm(nn::LSTMOptions(1, 8).batch_first(true));
  nn::Linear head(8, 1);
  std::vector<Tensor> parameters = lstm->parameters();
  for (const Tensor& p : head->parameters()) parameters.push_back(p);
  optim::Adam adam(parameters, optim::AdamOptions(0.02));
  const auto loss_on = [&](const Tensor& x) {
    auto [out, state] = lstm(x);
    const Tensor prediction = head(out.select(1, -1)).squeeze(1);
    return nn::functional::mse_loss(prediction, x.select(1, 0).squeeze(1));
  };
  const Tensor test = randn({64, 6, 1});
  const double before = loss_on(test).item<double>();
  for (int step = 0; step < 150; ++step) {
    adam.zero_grad();
    loss_on(randn({32, 6, 1})).backward();
    adam.step();
  }
  const double after = loss_on(test).item<double>();
  EXPECT_LT(after, 0.1 * before) << "before " << before << ", after " << after;
}

TEST(RecurrentLayers, NoGraphWithoutGradMode) {
  nn::GRU gru(nn::GRUOptions(3, 4).num_layers(2));
  NoGradGuard no_grad;
  auto [out, h] = gru(randn({5, 2, 3}));
  EXPECT_FALSE(out.requires_grad());
  EXPECT_FALSE(h.requires_grad());
  EXPECT_EQ(out.grad_fn(), nullptr);
}

// ---- printing and errors ------------------------------------------------------------------------------

TEST(RecurrentLayers, PrintAsLibtorch) {
  EXPECT_EQ(printed(*nn::LSTM(nn::LSTMOptions(8, 16).num_layers(2).batch_first(true))),
            "LSTM(input_size=8, hidden_size=16, num_layers=2, bias=true, batch_first=true, dropout=0, "
            "bidirectional=false)");
  EXPECT_EQ(printed(*nn::LSTM(nn::LSTMOptions(8, 16).proj_size(4).dropout(0.5))),
            "LSTM(input_size=8, hidden_size=16, num_layers=1, bias=true, batch_first=false, dropout=0.5, "
            "bidirectional=false, proj_size=4)");
  EXPECT_EQ(printed(*nn::GRU(3, 4)), "GRU(input_size=3, hidden_size=4, num_layers=1, bias=true, "
                                     "batch_first=false, dropout=0, bidirectional=false)");
  EXPECT_EQ(printed(*nn::RNN(nn::RNNOptions(3, 4).bias(false))),
            "RNN(input_size=3, hidden_size=4, num_layers=1, bias=false, batch_first=false, dropout=0, "
            "bidirectional=false)");
  EXPECT_EQ(printed(*nn::LSTMCell(8, 16)), "LSTMCell(8, 16)");
  EXPECT_EQ(printed(*nn::RNNCell(nn::RNNCellOptions(8, 16).nonlinearity(kReLU))), "RNNCell(8, 16, nonlinearity=kReLU)");
  EXPECT_EQ(printed(*nn::GRUCell(nn::GRUCellOptions(8, 16).bias(false))), "GRUCell(8, 16, bias=false)");
}

TEST(RecurrentLayers, BadOptionsAreErrors) {
  EXPECT_TRUE(throws_error_containing([] { nn::LSTM(nn::LSTMOptions(8, 16).proj_size(16)); },
                                      {"LSTM", "proj_size has to be smaller than hidden_size", "16"}));
  EXPECT_TRUE(throws_error_containing([] { nn::LSTM(nn::LSTMOptions(8, 16).proj_size(-1)); },
                                      {"LSTM", "proj_size should be a positive integer or zero"}));
  EXPECT_TRUE(throws_error_containing([] { nn::GRU(nn::GRUOptions(8, 16).dropout(1.5)); },
                                      {"GRU", "dropout should be a number in range [0, 1]", "1.5"}));
  EXPECT_TRUE(throws_error_containing([] { nn::RNN(nn::RNNOptions(8, 16).dropout(-0.1)); },
                                      {"RNN", "dropout should be a number in range [0, 1]"}));
  EXPECT_TRUE(throws_error_containing([] { nn::RNN(nn::RNNOptions(8, 0)); }, {"RNN", "hidden_size", "0"}));
  EXPECT_TRUE(throws_error_containing([] { nn::LSTM(nn::LSTMOptions(8, 4).num_layers(0)); }, {"LSTM", "num_layers", "0"}));
  EXPECT_TRUE(throws_error_containing([] { nn::GRUCell(0, 4); }, {"GRUCell", "input_size", "0"}));
}

TEST(RecurrentLayers, BadInputsAreErrorsWordedAsPyTorch) {
  nn::LSTM lstm(nn::LSTMOptions(8, 16).num_layers(2));
  EXPECT_TRUE(throws_error_containing([&] { lstm(randn({5, 3, 5})); },
                                      {"LSTM", "input.size(-1) must be equal to input_size. Expected 8, got 5"}));
  EXPECT_TRUE(throws_error_containing([&] { lstm(randn({5, 3, 4, 8})); }, {"LSTM", "input must have 3 dimensions", "4"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { lstm(randn({5, 3, 8}), std::make_tuple(randn({1, 3, 16}), randn({2, 3, 16}))); },
      {"LSTM", "Expected hidden[0] size (2, 3, 16), got [1, 3, 16]"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { lstm(randn({5, 3, 8}), std::make_tuple(randn({2, 3, 16}), randn({2, 2, 16}))); },
      {"LSTM", "Expected hidden[1] size (2, 3, 16), got [2, 2, 16]"}));
  EXPECT_TRUE(throws_error_containing(
      [&] { lstm(randn({5, 3, 8}), std::make_tuple(randn({2, 3}), randn({2, 3, 16}))); },
      {"LSTM", "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors"}));
  nn::RNN rnn(nn::RNNOptions(8, 16).num_layers(2));
  EXPECT_TRUE(throws_error_containing([&] { rnn(randn({5, 3, 8}), randn({1, 3, 16})); },
                                      {"RNN", "Expected hidden size (2, 3, 16), got [1, 3, 16]"}));
  EXPECT_TRUE(throws_error_containing([&] { rnn(randn({5, 8}), randn({2, 1, 16})); },
                                      {"RNN", "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor"}));
  nn::GRU gru(4, 4);
  EXPECT_TRUE(throws_error_containing([&] { gru(randn({5, 3, 4}, kFloat64)); }, {"GRU", "float64", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { gru(randn({5, 3, 4}), randn({1, 3, 4}, kFloat64)); },
                                      {"GRU", "float64", "float32"}));
}

TEST(RecurrentCells, BadInputsAreErrorsWordedAsPyTorch) {
  nn::LSTMCell lstm(8, 4);
  EXPECT_TRUE(throws_error_containing([&] { lstm(randn({3, 5})); },
                                      {"LSTMCell", "input has inconsistent input_size: got 5 expected 8"}));
  EXPECT_TRUE(throws_error_containing([&] { lstm(randn({2, 3, 8})); },
                                      {"LSTMCell", "Expected input to be 1-D or 2-D but received 3-D tensor"}));
  EXPECT_TRUE(throws_error_containing([&] { lstm(randn({3, 8}), std::make_tuple(randn({2, 4}), randn({3, 4}))); },
                                      {"LSTMCell", "Input batch size 3 doesn't match hidden0 batch size 2"}));
  EXPECT_TRUE(throws_error_containing([&] { lstm(randn({3, 8}), std::make_tuple(randn({3, 4}), randn({3, 5}))); },
                                      {"LSTMCell", "hidden1 has inconsistent hidden_size: got 5, expected 4"}));
  nn::GRUCell gru(8, 4);
  EXPECT_TRUE(throws_error_containing([&] { gru(randn({3, 8}), randn({3, 5})); },
                                      {"GRUCell", "hidden0 has inconsistent hidden_size: got 5, expected 4"}));
  nn::RNNCell rnn(8, 4);
  EXPECT_TRUE(throws_error_containing([&] { rnn(randn({8}), randn({2, 4})); }, {"RNNCell", "1-D"}));
  EXPECT_TRUE(throws_error_containing([&] { lstm_cell(randn({3, 5}), {randn({3, 4}), randn({3, 4})}, lstm->weight_ih, lstm->weight_hh); },
                                      {"lstm_cell", "input has inconsistent input_size: got 5 expected 8"}));
}

}  // namespace
}  // namespace xgrad
