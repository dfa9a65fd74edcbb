#include <xgrad/nn/rnn.hpp>

#include <cmath>
#include <ostream>
#include <sstream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/recurrent_impl.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad::nn {

namespace {

using recurrent::CellKind;

CellKind kind_of_mode(const std::string& mode) {
  if (mode == "LSTM") return CellKind::Lstm;
  if (mode == "GRU") return CellKind::Gru;
  if (mode == "RNN_RELU") return CellKind::RnnRelu;
  return CellKind::RnnTanh;
}

template <class Options>
detail::RNNOptionsBase base_of(std::string mode, const Options& o) {
  detail::RNNOptionsBase base(std::move(mode), o.input_size(), o.hidden_size());
  base.num_layers(o.num_layers()).bias(o.bias()).batch_first(o.batch_first()).dropout(o.dropout());
  base.bidirectional(o.bidirectional());
  return base;
}

std::string rnn_mode(const RNNOptions& options) {
  return std::holds_alternative<enumtype::kReLU>(options.nonlinearity()) ? "RNN_RELU" : "RNN_TANH";
}

// PyTorch prints an expected size as a Python tuple and the actual one as a list.
std::string as_tuple(std::int64_t a, std::int64_t b, std::int64_t c) {
  std::ostringstream out;
  out << '(' << a << ", " << b << ", " << c << ')';
  return out.str();
}

}  // namespace

// ---- RNN, LSTM, GRU ----------------------------------------------------------------------------

namespace detail {

RNNImplBase::RNNImplBase(const RNNOptionsBase& options) : options_base(options) {
  const std::string who = options.mode() == "LSTM" ? "LSTM" : options.mode() == "GRU" ? "GRU" : "RNN";
  check(options.input_size() > 0 && options.hidden_size() > 0, who,
        ": input_size and hidden_size must be positive, got input_size=", options.input_size(),
        " and hidden_size=", options.hidden_size());
  check(options.num_layers() > 0, who, ": num_layers must be positive, got ", options.num_layers());
  check(options.dropout() >= 0 && options.dropout() <= 1, who,
        ": dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got ",
        options.dropout());
  check(options.proj_size() >= 0, who, ": proj_size should be a positive integer or zero to disable projections, got ",
        options.proj_size());
  check(options.proj_size() < options.hidden_size(), who, ": proj_size has to be smaller than hidden_size, got proj_size=",
        options.proj_size(), " and hidden_size=", options.hidden_size());

  const std::int64_t gate_size = recurrent::gate_count(kind_of_mode(options.mode())) * options.hidden_size();
  const std::int64_t hidden = options.hidden_size();
  const std::int64_t real_hidden = output_size();
  // Python's order, so that named_parameters() and a state_dict list as PyTorch's.
  for (std::int64_t layer = 0; layer < options.num_layers(); ++layer) {
    for (std::int64_t direction = 0; direction < directions(); ++direction) {
      const std::int64_t layer_input = layer == 0 ? options.input_size() : real_hidden * directions();
      const std::string suffix = "_l" + std::to_string(layer) + (direction == 1 ? "_reverse" : "");
      std::vector<Tensor> group;
      group.push_back(register_parameter("weight_ih" + suffix, zeros({gate_size, layer_input})));
      group.push_back(register_parameter("weight_hh" + suffix, zeros({gate_size, real_hidden})));
      if (options.bias()) {
        group.push_back(register_parameter("bias_ih" + suffix, zeros({gate_size})));
        group.push_back(register_parameter("bias_hh" + suffix, zeros({gate_size})));
      }
      if (options.proj_size() > 0) group.push_back(register_parameter("weight_hr" + suffix, zeros({options.proj_size(), hidden})));
      weights_.push_back(group);
    }
  }
  reset_parameters();
}

std::int64_t RNNImplBase::output_size() const {
  return options_base.proj_size() > 0 ? options_base.proj_size() : options_base.hidden_size();
}

void RNNImplBase::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(options_base.hidden_size()));
  for (Tensor& parameter : parameters()) init::uniform_(parameter, -bound, bound);
}

std::vector<Tensor> RNNImplBase::all_weights() const {
  std::vector<Tensor> all;
  for (const std::vector<Tensor>& group : weights_) all.insert(all.end(), group.begin(), group.end());
  return all;
}

void RNNImplBase::pretty_print(std::ostream& out) const {
  out << std::boolalpha << display_name() << "(input_size=" << options_base.input_size()
      << ", hidden_size=" << options_base.hidden_size() << ", num_layers=" << options_base.num_layers()
      << ", bias=" << options_base.bias() << ", batch_first=" << options_base.batch_first()
      << ", dropout=" << options_base.dropout() << ", bidirectional=" << options_base.bidirectional();
  if (options_base.proj_size() > 0) out << ", proj_size=" << options_base.proj_size();
  out << ')' << std::noboolalpha;
}

void RNNImplBase::check_states(const Tensor& input, std::int64_t batch, const Tensor& h0, const Tensor& c0) const {
  const bool lstm = options_base.mode() == "LSTM";
  const std::int64_t layers = options_base.num_layers() * directions();
  const std::string expected_h = as_tuple(layers, batch, output_size());
  if (h0.defined())
    check(h0.sizes() == std::vector<std::int64_t>{layers, batch, output_size()}, display_name(), ": Expected hidden",
          lstm ? "[0]" : "", " size ", expected_h, ", got ", h0.sizes());
  if (c0.defined())
    check(c0.sizes() == std::vector<std::int64_t>{layers, batch, options_base.hidden_size()}, display_name(),
          ": Expected hidden[1] size ", as_tuple(layers, batch, options_base.hidden_size()), ", got ", c0.sizes());
  for (const Tensor* state : {&h0, &c0})
    if (state->defined())
      check(state->dtype() == input.dtype(), display_name(), ": the hidden state is ", dtype_name(state->dtype()),
            " but the input is ", dtype_name(input.dtype()));
}

RNNImplBase::Result RNNImplBase::run(const Tensor& data, const Tensor* batch_sizes, std::int64_t steps,
                                     std::int64_t batch, Tensor h0, Tensor c0) const {
  const std::string who = display_name();
  check(is_floating(data.dtype()), who, ": input must be float32 or float64, got ", dtype_name(data.dtype()));
  check(data.dtype() == weights_[0][0].dtype(), who, ": input is ", dtype_name(data.dtype()), " but the parameters are ",
        dtype_name(weights_[0][0].dtype()), " (convert the module with ->to(dtype))");
  const bool lstm = options_base.mode() == "LSTM";
  const std::int64_t layers = options_base.num_layers() * directions();
  if (!h0.defined()) h0 = zeros({layers, batch, output_size()}, data.dtype());
  if (lstm && !c0.defined()) c0 = zeros({layers, batch, options_base.hidden_size()}, data.dtype());

  std::vector<recurrent::Weights> weights;
  for (const std::vector<Tensor>& group : weights_) {
    recurrent::Weights w{group[0], group[1], {}, {}, {}};
    if (options_base.bias()) {
      w.b_ih = group[2];
      w.b_hh = group[3];
    }
    if (options_base.proj_size() > 0) w.w_hr = group.back();
    weights.push_back(w);
  }
  recurrent::StackConfig config;
  config.kind = kind_of_mode(options_base.mode());
  config.num_layers = options_base.num_layers();
  config.bidirectional = options_base.bidirectional();
  config.dropout = options_base.dropout();
  config.train = is_training();
  const recurrent::Packing packing = batch_sizes ? recurrent::Packing::from_batch_sizes(who, *batch_sizes, data.size(0))
                                                 : recurrent::Packing::uniform(steps, batch);
  const recurrent::StackResult result = recurrent::run_stack(data, packing, h0, c0, weights, config);
  return {result.output, result.h_n, result.c_n};
}

RNNImplBase::Result RNNImplBase::run_padded(const Tensor& input, Tensor h0, Tensor c0) const {
  const std::string who = display_name();
  const bool lstm = options_base.mode() == "LSTM";
  check(input.defined(), who, ": input is an undefined tensor");
  check(input.dim() == 2 || input.dim() == 3, who,
        ": input must have 3 dimensions (2 for an unbatched sequence), got ", input.dim(), " (input sizes ",
        input.sizes(), ")");
  const bool batched = input.dim() == 3;
  const std::int64_t batch_dim = options_base.batch_first() ? 0 : 1;
  const std::int64_t state_dim = batched ? 3 : 2;
  const char* batching = batched ? "batched 3-D" : "unbatched 2-D";
  if (lstm && (h0.defined() || c0.defined()))
    check(h0.defined() && c0.defined() && h0.dim() == state_dim && c0.dim() == state_dim, who, ": For ", batching,
          " input, hx and cx should also be ", state_dim, "-D but got (", h0.defined() ? h0.dim() : 0, "-D, ",
          c0.defined() ? c0.dim() : 0, "-D) tensors");
  else if (h0.defined())
    check(h0.dim() == state_dim, who, ": For ", batching, " input, hx should also be ", state_dim, "-D but got ",
          h0.dim(), "-D tensor");
  Tensor sequence = batched ? input : input.unsqueeze(batch_dim);
  if (!batched) {
    if (h0.defined()) h0 = h0.unsqueeze(1);
    if (c0.defined()) c0 = c0.unsqueeze(1);
  }
  check(sequence.size(-1) == options_base.input_size(), who,
        ": input.size(-1) must be equal to input_size. Expected ", options_base.input_size(), ", got ",
        sequence.size(-1));
  if (options_base.batch_first()) sequence = sequence.transpose(0, 1);
  const std::int64_t steps = sequence.size(0), batch = sequence.size(1);
  check(steps > 0 && batch > 0, who, ": input must have at least one step and one sequence, got sizes ", input.sizes());
  check_states(sequence, batch, h0, c0);

  Result result = run(sequence.reshape({steps * batch, options_base.input_size()}), nullptr, steps, batch, h0, c0);
  result.output = result.output.view({steps, batch, result.output.size(1)});
  if (options_base.batch_first()) result.output = result.output.transpose(0, 1);
  if (!batched) {
    result.output = result.output.squeeze(batch_dim);
    result.h_n = result.h_n.squeeze(1);
    if (result.c_n.defined()) result.c_n = result.c_n.squeeze(1);
  }
  return result;
}

RNNImplBase::Result RNNImplBase::run_packed(const PackedSequence& input, Tensor h0, Tensor c0) const {
  const std::string who = display_name();
  const Tensor& data = input.data();
  check(data.defined(), who, ": the packed sequence's data is an undefined tensor");
  check(data.dim() == 2, who, ": input must have 2 dimensions, got ", data.dim());
  check(data.size(-1) == options_base.input_size(), who, ": input.size(-1) must be equal to input_size. Expected ",
        options_base.input_size(), ", got ", data.size(-1));
  check(input.batch_sizes().numel() > 0, who, ": the packed sequence has no steps");
  const std::int64_t batch = input.batch_sizes().contiguous().data_ptr<std::int64_t>()[0];
  check_states(data, batch, h0, c0);
  // A given state is in the caller's batch order; the data is sorted by length.
  const Tensor& sorted = input.sorted_indices();
  if (sorted.defined()) {
    if (h0.defined()) h0 = index_select(h0, 1, sorted);
    if (c0.defined()) c0 = index_select(c0, 1, sorted);
  }
  Result result = run(data, &input.batch_sizes(), input.batch_sizes().numel(), batch, h0, c0);
  const Tensor& unsorted = input.unsorted_indices();
  if (unsorted.defined()) {
    result.h_n = index_select(result.h_n, 1, unsorted);
    if (result.c_n.defined()) result.c_n = index_select(result.c_n, 1, unsorted);
  }
  return result;
}

}  // namespace detail

RNNImpl::RNNImpl(const RNNOptions& options)
    : RNNImplBase(base_of(rnn_mode(options), options)), options(options) {}

std::tuple<Tensor, Tensor> RNNImpl::forward(const Tensor& input, Tensor hx) {
  const Result result = run_padded(input, std::move(hx), {});
  return {result.output, result.h_n};
}

std::tuple<PackedSequence, Tensor> RNNImpl::forward_with_packed_input(const PackedSequence& packed_input, Tensor hx) {
  const Result result = run_packed(packed_input, std::move(hx), {});
  return {PackedSequence(result.output, packed_input.batch_sizes(), packed_input.sorted_indices(),
                         packed_input.unsorted_indices()),
          result.h_n};
}

LSTMImpl::LSTMImpl(const LSTMOptions& options)
    : RNNImplBase(base_of("LSTM", options).proj_size(options.proj_size())), options(options) {}

std::tuple<Tensor, std::tuple<Tensor, Tensor>> LSTMImpl::forward(const Tensor& input,
                                                                  std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  const auto [h0, c0] = hx_opt.value_or(std::tuple<Tensor, Tensor>{});
  const Result result = run_padded(input, h0, c0);
  return {result.output, {result.h_n, result.c_n}};
}

std::tuple<PackedSequence, std::tuple<Tensor, Tensor>> LSTMImpl::forward_with_packed_input(
    const PackedSequence& packed_input, std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  const auto [h0, c0] = hx_opt.value_or(std::tuple<Tensor, Tensor>{});
  const Result result = run_packed(packed_input, h0, c0);
  return {PackedSequence(result.output, packed_input.batch_sizes(), packed_input.sorted_indices(),
                         packed_input.unsorted_indices()),
          {result.h_n, result.c_n}};
}

GRUImpl::GRUImpl(const GRUOptions& options) : RNNImplBase(base_of("GRU", options)), options(options) {}

std::tuple<Tensor, Tensor> GRUImpl::forward(const Tensor& input, Tensor hx) {
  const Result result = run_padded(input, std::move(hx), {});
  return {result.output, result.h_n};
}

std::tuple<PackedSequence, Tensor> GRUImpl::forward_with_packed_input(const PackedSequence& packed_input, Tensor hx) {
  const Result result = run_packed(packed_input, std::move(hx), {});
  return {PackedSequence(result.output, packed_input.batch_sizes(), packed_input.sorted_indices(),
                         packed_input.unsorted_indices()),
          result.h_n};
}

// ---- cells -------------------------------------------------------------------------------------

namespace detail {

RNNCellImplBase::RNNCellImplBase(const char* name, std::int64_t input_size, std::int64_t hidden_size, bool bias,
                                 std::int64_t num_chunks)
    : input_size_(input_size), hidden_size_(hidden_size), bias_(bias) {
  check(input_size > 0 && hidden_size > 0, name, ": input_size and hidden_size must be positive, got input_size=",
        input_size, " and hidden_size=", hidden_size);
  weight_ih = register_parameter("weight_ih", zeros({num_chunks * hidden_size, input_size}));
  weight_hh = register_parameter("weight_hh", zeros({num_chunks * hidden_size, hidden_size}));
  // Without a bias the names are still taken, by undefined tensors, as in libtorch.
  bias_ih = bias ? register_parameter("bias_ih", zeros({num_chunks * hidden_size}))
                 : register_parameter("bias_ih", Tensor(), false);
  bias_hh = bias ? register_parameter("bias_hh", zeros({num_chunks * hidden_size}))
                 : register_parameter("bias_hh", Tensor(), false);
  reset_parameters();
}

void RNNCellImplBase::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size_));
  for (Tensor& parameter : parameters()) init::uniform_(parameter, -bound, bound);
}

void RNNCellImplBase::pretty_print(std::ostream& out) const {
  out << display_name() << '(' << input_size_ << ", " << hidden_size_;
  if (!bias_) out << ", bias=false";
  out << nonlinearity_str() << ')';
}

std::tuple<Tensor, bool> RNNCellImplBase::batched_input(const Tensor& input) const {
  check(input.defined(), display_name(), ": input is an undefined tensor");
  check(input.dim() == 1 || input.dim() == 2, display_name(), ": Expected input to be 1-D or 2-D but received ",
        input.dim(), "-D tensor");
  return input.dim() == 1 ? std::make_tuple(input.unsqueeze(0), true) : std::make_tuple(input, false);
}

Tensor RNNCellImplBase::batched_state(const Tensor& state, bool unbatched, const char* label) const {
  check(state.defined(), display_name(), ": ", label, " is an undefined tensor");
  if (!unbatched) return state;
  check(state.dim() == 1, display_name(), ": for an unbatched (1-D) input, ", label, " must be 1-D too, got ",
        state.dim(), "-D");
  return state.unsqueeze(0);
}

Tensor RNNCellImplBase::zero_state(const Tensor& input) const {
  return zeros({input.size(0), hidden_size_}, input.dtype());
}

}  // namespace detail

namespace {

recurrent::Weights cell_weights(const detail::RNNCellImplBase& cell) {
  return {cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh, {}};
}

}  // namespace

RNNCellImpl::RNNCellImpl(const RNNCellOptions& options)
    : RNNCellImplBase("RNNCell", options.input_size(), options.hidden_size(), options.bias(), 1), options(options) {}

std::string RNNCellImpl::nonlinearity_str() const {
  return std::holds_alternative<enumtype::kReLU>(options.nonlinearity()) ? ", nonlinearity=kReLU" : "";
}

Tensor RNNCellImpl::forward(const Tensor& input, Tensor hx) {
  const auto [x, unbatched] = batched_input(input);
  const Tensor h = hx.defined() ? batched_state(hx, unbatched, "hx") : zero_state(x);
  const recurrent::Weights weights = cell_weights(*this);
  recurrent::check_cell_arguments(display_name(), x, {h}, weights);
  const CellKind kind = std::holds_alternative<enumtype::kReLU>(options.nonlinearity()) ? CellKind::RnnRelu
                                                                                       : CellKind::RnnTanh;
  const Tensor next = recurrent::step(kind, linear(x, weight_ih, bias_ih), {h, {}}, weights).h;
  return unbatched ? next.squeeze(0) : next;
}

LSTMCellImpl::LSTMCellImpl(const LSTMCellOptions& options)
    : RNNCellImplBase("LSTMCell", options.input_size(), options.hidden_size(), options.bias(), 4), options(options) {}

std::tuple<Tensor, Tensor> LSTMCellImpl::forward(const Tensor& input, std::optional<std::tuple<Tensor, Tensor>> hx_opt) {
  const auto [x, unbatched] = batched_input(input);
  const Tensor h = hx_opt ? batched_state(std::get<0>(*hx_opt), unbatched, "hx") : zero_state(x);
  const Tensor c = hx_opt ? batched_state(std::get<1>(*hx_opt), unbatched, "cx") : zero_state(x);
  const recurrent::Weights weights = cell_weights(*this);
  recurrent::check_cell_arguments(display_name(), x, {h, c}, weights);
  const recurrent::State next = recurrent::step(CellKind::Lstm, linear(x, weight_ih, bias_ih), {h, c}, weights);
  if (unbatched) return {next.h.squeeze(0), next.c.squeeze(0)};
  return {next.h, next.c};
}

GRUCellImpl::GRUCellImpl(const GRUCellOptions& options)
    : RNNCellImplBase("GRUCell", options.input_size(), options.hidden_size(), options.bias(), 3), options(options) {}

Tensor GRUCellImpl::forward(const Tensor& input, Tensor hx) {
  const auto [x, unbatched] = batched_input(input);
  const Tensor h = hx.defined() ? batched_state(hx, unbatched, "hx") : zero_state(x);
  const recurrent::Weights weights = cell_weights(*this);
  recurrent::check_cell_arguments(display_name(), x, {h}, weights);
  const Tensor next = recurrent::step(CellKind::Gru, linear(x, weight_ih, bias_ih), {h, {}}, weights).h;
  return unbatched ? next.squeeze(0) : next;
}

}  // namespace xgrad::nn
