// names: makemore's idea in xgrad. Models of increasing power learn to spell English words from
// Debian's word list and then invent new ones.
//
//   names [--model bigram|mlp|rnn|gru|lstm|transformer] [--steps 3000] [--batch-size 64] [--lr 3e-3]
//         [--samples 12] [--words /usr/share/dict/american-english] [--seed 42] [--threads 1]
//
// Every model is trained the same way (AdamW, the mean cross-entropy of each next character); at the
// end it prints the loss on held-out words (nats per character) and samples new words, marking the
// ones that are not in the list. Without the word list it says how to get it and exits with 77.
#include <CLI/CLI.hpp>
#include <xgrad/xgrad.hpp>

#include <cstdio>
#include <set>
#include <string>

#include "models.hpp"
#include "progress.hpp"
#include "words.hpp"

namespace {

namespace F = xgrad::nn::functional;
using xgrad::Tensor;

constexpr int kMissingData = 77;

struct Settings {
  std::string model = "transformer", words = "/usr/share/dict/american-english";
  std::int64_t steps = 3000, batch_size = 64, samples = 12;
  double lr = 3e-3, weight_decay = 0.01;
  std::uint64_t seed = 42;
  int threads = 1;
};

Tensor loss_of(names::NameModel& model, const Tensor& x, const Tensor& y) {
  const Tensor logits = model.forward(x);
  return F::cross_entropy(logits.reshape({-1, names::kVocabulary}), y.reshape({-1}),
                          F::CrossEntropyFuncOptions().ignore_index(names::kIgnore));
}

// The mean loss per character over a whole split (the characters past each word's end excluded).
double split_loss(names::NameModel& model, const names::Split& split) {
  xgrad::NoGradGuard no_grad;
  model.eval();
  double total = 0.0;
  std::int64_t characters = 0;
  const std::int64_t rows = split.x.size(0);
  for (std::int64_t start = 0; start < rows; start += 500) {
    const std::int64_t count = std::min<std::int64_t>(500, rows - start);
    const Tensor y = split.y.narrow(0, start, count);
    const std::int64_t counted = y.ne(names::kIgnore).sum().item<std::int64_t>();
    total += loss_of(model, split.x.narrow(0, start, count), y).item<double>() * static_cast<double>(counted);
    characters += counted;
  }
  model.train();
  return total / static_cast<double>(characters);
}

// A new word: characters drawn one at a time from the model's prediction until the end mark.
std::string sample_word(names::NameModel& model, std::int64_t length) {
  xgrad::NoGradGuard no_grad;
  Tensor prefix = xgrad::zeros({1, 1}, xgrad::kLong);
  std::string word;
  while (prefix.size(1) < length) {
    const Tensor logits = model.forward(prefix).select(1, -1);
    const Tensor next = xgrad::softmax(logits, -1).multinomial(1);
    const std::int64_t index = next.item<std::int64_t>();
    if (index == 0) break;
    word += names::to_char(index);
    prefix = xgrad::cat({prefix, next}, 1);
  }
  return word;
}

int run(const Settings& s) {
  xgrad::set_num_threads(s.threads);
  xgrad::manual_seed(s.seed);
  names::Words words;
  try {
    words = names::read_words(s.words);
  } catch (const xgrad::Error& error) {
    std::fprintf(stderr, "%s\napt-get install wamerican puts a word list in /usr/share/dict/american-english.\n",
                 error.what());
    return kMissingData;
  }
  auto model = names::make_model(s.model, words.length);
  std::int64_t parameter_count = 0;
  for (const auto& p : model->parameters()) parameter_count += p.numel();
  std::printf("%zu words (%lld for training, %lld held out), rows of %lld; model %s, %lld parameters\n", words.list.size(),
              static_cast<long long>(words.train.x.size(0)), static_cast<long long>(words.test.x.size(0)),
              static_cast<long long>(words.length), s.model.c_str(), static_cast<long long>(parameter_count));

  xgrad::optim::AdamW optimizer(model->parameters(),
                                xgrad::optim::AdamWOptions(s.lr).betas({0.9, 0.99}).weight_decay(s.weight_decay));
  xgrad::optim::CosineAnnealingLR schedule(optimizer, s.steps, s.lr / 10);
  examples::ProgressBar bar("train", s.steps, "words/s");
  for (std::int64_t step = 0; step < s.steps; ++step) {
    const Tensor rows = xgrad::randint(0, words.train.x.size(0), {s.batch_size});
    const Tensor loss = loss_of(*model, words.train.x.index_select(0, rows), words.train.y.index_select(0, rows));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    schedule.step();
    bar.step(s.batch_size, loss.item<double>());
  }
  bar.finish();
  std::printf("model %s: train loss %.4f, test loss %.4f\n", s.model.c_str(), split_loss(*model, words.train),
              split_loss(*model, words.test));

  const std::set<std::string> known(words.list.begin(), words.list.end());
  model->eval();
  std::printf("samples (* new):");
  for (std::int64_t i = 0; i < s.samples; ++i) {
    const std::string word = sample_word(*model, words.length);
    std::printf(" %s%s", word.c_str(), known.count(word) != 0 ? "" : "*");
  }
  std::printf("\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Learn to spell English words with a ladder of xgrad models, then invent new ones"};
  Settings s;
  app.add_option("--model", s.model, "bigram, mlp, rnn, gru, lstm or transformer")
      ->check(CLI::IsMember({"bigram", "mlp", "rnn", "gru", "lstm", "transformer"}));
  app.add_option("--words", s.words, "word list, one word a line");
  app.add_option("--steps", s.steps, "training steps")->check(CLI::PositiveNumber);
  app.add_option("--batch-size", s.batch_size, "words per step")->check(CLI::PositiveNumber);
  app.add_option("--lr", s.lr, "AdamW's learning rate (decayed to a tenth by a cosine)")->check(CLI::PositiveNumber);
  app.add_option("--samples", s.samples, "new words to print")->check(CLI::NonNegativeNumber);
  app.add_option("--seed", s.seed, "manual_seed for the split, the weights, the batches and the samples");
  app.add_option("--threads", s.threads, "threads for the matrix products")->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "names: %s\n", error.what());
    return 1;
  }
}
