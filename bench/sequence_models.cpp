// The sequence-model training iterations of issue "sequence models", one source for both engines:
// built as xgrad_sequence_bench (xgrad) and, with -DXGRAD_WITH_TORCH=ON, as torch_sequence_bench
// (libtorch 1.13). The code below is the same program line for line; only the engine's namespace,
// the module macro and the attention call differ (libtorch 1.13 has no scaled_dot_product_attention,
// so it runs PyTorch 2.0's reference formula, which is what nanoGPT falls back to without it).
//
//   xgrad_sequence_bench --workload gpt|lstm [--iters 60] [--warmup 10] [--threads 1]
//   xgrad_sequence_bench --workload gpt --train 2000 [--eval-iters 50] [--data /usr/share/games/fortunes]
//
// gpt:  examples/char_gpt's default model (4 layers, 4 heads, width 128, context 64, batch 12, bytes
//       as tokens), AdamW with nanoGPT's groups, gradient clipping 1.0.
// lstm: a 2-layer LSTM language model (embedding 64, hidden 256, sequences of 64, batch 32, bytes as
//       tokens), AdamW, clipping 1.0.
// Timing mode prints the median, min and max milliseconds of one iteration (forward, backward,
// clipping, step) over --iters iterations after --warmup, on random tokens; then the peak RSS.
// Training mode trains on the fortunes' texts for that many iterations (random windows, constant
// learning rate 1e-3) and prints the validation loss, estimated over --eval-iters batches.
#if XGRAD_BENCH_TORCH
#include <torch/torch.h>
namespace engine = torch;
#define ENGINE_MODULE TORCH_MODULE
#define ENGINE_NAME "libtorch"
// Debian's libtorch runs its products in the system's OpenBLAS, whose threads it does not set.
extern "C" void openblas_set_num_threads(int threads);
#else
#include <xgrad/xgrad.hpp>
namespace engine = xgrad;
#define ENGINE_MODULE XGRAD_MODULE
#define ENGINE_NAME "xgrad"
#endif

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

namespace nn = engine::nn;
namespace F = engine::nn::functional;
using engine::Tensor;

constexpr std::int64_t kVocabulary = 256;

Tensor causal_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
#if XGRAD_BENCH_TORCH
  const std::int64_t T = q.size(-2);
  Tensor scores = q.matmul(k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  scores = scores.masked_fill(torch::ones({T, T}, torch::kBool).triu(1), -INFINITY);
  return torch::softmax(scores, -1).matmul(v);
#else
  return xgrad::scaled_dot_product_attention(q, k, v, {}, 0.0, /*is_causal=*/true);
#endif
}

struct CausalSelfAttentionImpl : nn::Module {
  CausalSelfAttentionImpl(std::int64_t width, std::int64_t heads)
      : heads(heads), c_attn(register_module("c_attn", nn::Linear(width, 3 * width))),
        c_proj(register_module("c_proj", nn::Linear(width, width))) {}

  Tensor forward(const Tensor& x) {
    const std::int64_t B = x.size(0), T = x.size(1), C = x.size(2);
    const auto qkv = c_attn->forward(x).split(C, 2);
    const auto split_heads = [&](const Tensor& t) { return t.view({B, T, heads, C / heads}).transpose(1, 2); };
    const Tensor y = causal_attention(split_heads(qkv[0]), split_heads(qkv[1]), split_heads(qkv[2]));
    return c_proj->forward(y.transpose(1, 2).reshape({B, T, C}));
  }

  std::int64_t heads;
  nn::Linear c_attn, c_proj;
};
ENGINE_MODULE(CausalSelfAttention);

struct BlockImpl : nn::Module {
  BlockImpl(std::int64_t width, std::int64_t heads)
      : ln_1(register_module("ln_1", nn::LayerNorm(nn::LayerNormOptions({width})))),
        attn(register_module("attn", CausalSelfAttention(width, heads))),
        ln_2(register_module("ln_2", nn::LayerNorm(nn::LayerNormOptions({width})))),
        c_fc(register_module("c_fc", nn::Linear(width, 4 * width))),
        c_proj(register_module("c_proj", nn::Linear(4 * width, width))) {}

  Tensor forward(Tensor x) {
    x = x + attn->forward(ln_1->forward(x));
    return x + c_proj->forward(F::gelu(c_fc->forward(ln_2->forward(x))));
  }

  nn::LayerNorm ln_1;
  CausalSelfAttention attn;
  nn::LayerNorm ln_2;
  nn::Linear c_fc, c_proj;
};
ENGINE_MODULE(Block);

struct GPTImpl : nn::Module {
  GPTImpl(std::int64_t context, std::int64_t layers, std::int64_t heads, std::int64_t width)
      : wte(register_module("wte", nn::Embedding(kVocabulary, width))),
        wpe(register_module("wpe", nn::Embedding(context, width))),
        h(register_module("h", nn::ModuleList())),
        ln_f(register_module("ln_f", nn::LayerNorm(nn::LayerNormOptions({width})))),
        lm_head(register_module("lm_head", nn::Linear(nn::LinearOptions(width, kVocabulary).bias(false)))) {
    for (std::int64_t i = 0; i < layers; ++i) h->push_back(Block(width, heads));
  }

  Tensor forward(const Tensor& idx) {
    Tensor x = wte->forward(idx) + wpe->forward(engine::arange(idx.size(1)));
    for (const auto& block : *h) x = block->as<BlockImpl>()->forward(x);
    return lm_head->forward(ln_f->forward(x));
  }

  nn::Embedding wte, wpe;
  nn::ModuleList h;
  nn::LayerNorm ln_f;
  nn::Linear lm_head;
};
ENGINE_MODULE(GPT);

struct LstmLanguageModelImpl : nn::Module {
  LstmLanguageModelImpl(std::int64_t embedding, std::int64_t hidden, std::int64_t layers)
      : embed(register_module("embed", nn::Embedding(kVocabulary, embedding))),
        lstm(register_module("lstm", nn::LSTM(nn::LSTMOptions(embedding, hidden).num_layers(layers).batch_first(true)))),
        head(register_module("head", nn::Linear(hidden, kVocabulary))) {}

  Tensor forward(const Tensor& idx) { return head->forward(std::get<0>(lstm->forward(embed->forward(idx)))); }

  nn::Embedding embed;
  nn::LSTM lstm;
  nn::Linear head;
};
ENGINE_MODULE(LstmLanguageModel);

struct Settings {
  std::string workload = "gpt", data = "/usr/share/games/fortunes";
  int iters = 60, warmup = 10, threads = 1, train = 0, eval_iters = 50;
};

struct Workload {
  std::int64_t batch, context;
  std::function<Tensor(const Tensor&)> forward;
  std::vector<Tensor> parameters;
  std::function<void(bool)> set_training;
};

template <class Model>
Workload workload_of(Model model, std::int64_t batch, std::int64_t context) {
  return {batch, context, [model](const Tensor& idx) mutable { return model->forward(idx); }, model->parameters(),
          [model](bool on) mutable { model->train(on); }};
}

Workload make_workload(const std::string& name) {
  if (name == "lstm") return workload_of(LstmLanguageModel(64, 256, 2), 32, 64);
  return workload_of(GPT(64, 4, 4, 128), 12, 64);
}

// AdamW(1e-3) with nanoGPT's groups: weight decay 0.1 for matrices, none for vectors.
std::unique_ptr<engine::optim::AdamW> make_optimizer(const std::vector<Tensor>& parameters) {
  std::vector<Tensor> decay, no_decay;
  for (const auto& p : parameters) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  std::vector<engine::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<engine::optim::AdamWOptions>(engine::optim::AdamWOptions(1e-3).weight_decay(0.1)));
  groups.emplace_back(no_decay, std::make_unique<engine::optim::AdamWOptions>(engine::optim::AdamWOptions(1e-3).weight_decay(0.0)));
  return std::make_unique<engine::optim::AdamW>(std::move(groups));
}

double train_step(Workload& w, engine::optim::AdamW& optimizer, const Tensor& x, const Tensor& y) {
  optimizer.zero_grad();
  const Tensor logits = w.forward(x);
  const Tensor loss = F::cross_entropy(logits.view({-1, kVocabulary}), y.reshape({-1}));
  loss.backward();
  nn::utils::clip_grad_norm_(w.parameters, 1.0);
  optimizer.step();
  return loss.item<double>();
}

long peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

int time_iterations(const Settings& s) {
  Workload w = make_workload(s.workload);
  auto optimizer = make_optimizer(w.parameters);
  const Tensor x = engine::randint(0, kVocabulary, {w.batch, w.context});
  const Tensor y = engine::randint(0, kVocabulary, {w.batch, w.context});
  std::vector<double> ms;
  for (int i = 0; i < s.warmup + s.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    train_step(w, *optimizer, x, y);
    const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= s.warmup) ms.push_back(elapsed);
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%s %s threads %d: iteration median %.2f ms (min %.2f, max %.2f, %d iterations); peak RSS %ld MiB\n",
              ENGINE_NAME, s.workload.c_str(), s.threads, ms[ms.size() / 2], ms.front(), ms.back(), s.iters,
              peak_rss_mib());
  return 0;
}

Tensor read_fortunes(const std::string& folder) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string extension = entry.path().extension().string();
    if (entry.is_regular_file() && !entry.is_symlink() && extension != ".dat" && extension != ".u8")
      paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::vector<std::int64_t> tokens;
  for (const auto& path : paths) {
    std::ifstream in(path, std::ios::binary);
    for (std::istreambuf_iterator<char> it(in), end; it != end; ++it) tokens.push_back(static_cast<unsigned char>(*it));
  }
  return engine::tensor(tokens);
}

// B random windows of the text and their next tokens, as nanoGPT's get_batch.
std::pair<Tensor, Tensor> random_batch(const Tensor& text, std::int64_t batch, std::int64_t context) {
  const Tensor starts = engine::randint(0, text.size(0) - context - 1, {batch});
  std::vector<Tensor> xs, ys;
  for (std::int64_t b = 0; b < batch; ++b) {
    const std::int64_t start = starts[b].item<std::int64_t>();
    xs.push_back(text.narrow(0, start, context));
    ys.push_back(text.narrow(0, start + 1, context));
  }
  return {engine::stack(xs), engine::stack(ys)};
}

int train_and_validate(const Settings& s) {
  const Tensor text = read_fortunes(s.data);
  const std::int64_t split = text.size(0) * 9 / 10;
  const Tensor train = text.narrow(0, 0, split), validation = text.narrow(0, split, text.size(0) - split);
  Workload w = make_workload(s.workload);
  auto optimizer = make_optimizer(w.parameters);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < s.train; ++i) {
    auto [x, y] = random_batch(train, w.batch, w.context);
    train_step(w, *optimizer, x, y);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  engine::NoGradGuard no_grad;
  w.set_training(false);
  double sum = 0.0;
  for (int i = 0; i < s.eval_iters; ++i) {
    auto [x, y] = random_batch(validation, w.batch, w.context);
    sum += F::cross_entropy(w.forward(x).view({-1, kVocabulary}), y.reshape({-1})).item<double>();
  }
  std::printf("%s %s threads %d: validation loss %.4f after %d iterations (%.1f s of training); peak RSS %ld MiB\n",
              ENGINE_NAME, s.workload.c_str(), s.threads, sum / s.eval_iters, s.train, seconds, peak_rss_mib());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A sequence-model training iteration, timed"};
  Settings s;
  app.add_option("--workload", s.workload, "gpt or lstm")->check(CLI::IsMember({"gpt", "lstm"}));
  app.add_option("--iters", s.iters, "timed iterations")->check(CLI::PositiveNumber);
  app.add_option("--warmup", s.warmup, "untimed iterations first");
  app.add_option("--threads", s.threads, "threads")->check(CLI::PositiveNumber);
  app.add_option("--train", s.train, "train on the fortunes for this many iterations, then validate");
  app.add_option("--eval-iters", s.eval_iters, "validation batches")->check(CLI::PositiveNumber);
  app.add_option("--data", s.data, "folder of the fortunes' texts");
  CLI11_PARSE(app, argc, argv);
  engine::manual_seed(1337);
  engine::set_num_threads(s.threads);
#if XGRAD_BENCH_TORCH
  openblas_set_num_threads(s.threads);
#endif
  return s.train > 0 ? train_and_validate(s) : time_iterations(s);
}
