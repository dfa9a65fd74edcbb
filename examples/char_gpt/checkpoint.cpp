#include "checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace char_gpt {

namespace {

void write_series(std::ofstream& out, const char* name, const std::vector<double>& xs,
                  const std::vector<double>& ys) {
  for (std::size_t i = 0; i < xs.size(); ++i) out << name << ' ' << xs[i] << ' ' << ys[i] << '\n';
}

}  // namespace

void save_checkpoint(const std::string& folder, const GPT& model, const xgrad::optim::AdamW& optimizer,
                     const xgrad::optim::LRScheduler& schedule, const Progress& progress) {
  std::filesystem::create_directories(folder);
  xgrad::save(model, folder + "/model.npz");
  xgrad::save(optimizer, schedule, folder + "/optimizer.npz");
  std::ofstream out(folder + "/progress.txt");
  out.precision(17);
  const GPTConfig& c = progress.config;
  out << "config " << c.vocab_size << ' ' << c.block_size << ' ' << c.n_layer << ' ' << c.n_head << ' ' << c.n_embd
      << ' ' << c.dropout << "\niterations " << progress.iterations_done << '\n';
  write_series(out, "train", progress.history.train_x, progress.history.train_loss);
  write_series(out, "eval_train", progress.history.eval_x, progress.history.eval_train);
  write_series(out, "eval_validation", progress.history.eval_x, progress.history.eval_validation);
  if (!out) throw xgrad::Error("char_gpt: cannot write " + folder + "/progress.txt");
}

Progress read_progress(const std::string& folder) {
  std::ifstream in(folder + "/progress.txt");
  if (!in) throw xgrad::Error("char_gpt: no checkpoint in " + folder + " (progress.txt is missing)");
  Progress progress;
  bool has_config = false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    double x = 0, y = 0;
    GPTConfig& c = progress.config;
    if (key == "config") {
      has_config = static_cast<bool>(fields >> c.vocab_size >> c.block_size >> c.n_layer >> c.n_head >> c.n_embd >>
                                     c.dropout);
    } else if (key == "iterations") {
      fields >> progress.iterations_done;
    } else if (key == "train" && fields >> x >> y) {
      progress.history.train_x.push_back(x);
      progress.history.train_loss.push_back(y);
    } else if (key == "eval_train" && fields >> x >> y) {
      progress.history.eval_x.push_back(x);
      progress.history.eval_train.push_back(y);
    } else if (key == "eval_validation" && fields >> x >> y) {
      progress.history.eval_validation.push_back(y);
    }
  }
  if (!has_config) throw xgrad::Error("char_gpt: " + folder + "/progress.txt has no model configuration");
  return progress;
}

void load_checkpoint(const std::string& folder, const GPT& model, xgrad::optim::AdamW* optimizer,
                     xgrad::optim::LRScheduler* schedule) {
  xgrad::load(model, folder + "/model.npz");
  if (optimizer != nullptr && schedule != nullptr) xgrad::load(*optimizer, *schedule, folder + "/optimizer.npz");
}

}  // namespace char_gpt
