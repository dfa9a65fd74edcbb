#pragma once
// Checkpoints for --resume and --sample: a folder holding the model (model.npz), the optimiser with
// its learning-rate schedule (optimizer.npz; both numpy.load reads), and progress.txt (the model's
// configuration, the iterations done, the loss curves so far).
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "model.hpp"

namespace char_gpt {

struct History {
  std::vector<double> train_x, train_loss;            // mean training loss over stretches of iterations
  std::vector<double> eval_x, eval_train, eval_validation;  // estimated losses at each evaluation
};

struct Progress {
  GPTConfig config;
  std::int64_t iterations_done = 0;
  History history;
};

void save_checkpoint(const std::string& folder, const GPT& model, const xgrad::optim::AdamW& optimizer,
                     const xgrad::optim::LRScheduler& schedule, const Progress& progress);
// The configuration and progress of the checkpoint in `folder`; throws xgrad::Error when there is
// none.
Progress read_progress(const std::string& folder);
// Loads the weights into a model made with read_progress(folder).config, and the optimiser's and
// schedule's state when given.
void load_checkpoint(const std::string& folder, const GPT& model, xgrad::optim::AdamW* optimizer = nullptr,
                     xgrad::optim::LRScheduler* schedule = nullptr);

}  // namespace char_gpt
