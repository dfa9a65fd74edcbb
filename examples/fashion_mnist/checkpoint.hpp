#pragma once
// Checkpoints for --resume: a folder holding the model's and the optimiser's state (xgrad::save,
// each an .npz file numpy.load reads) and progress.txt (model name, epochs done, the curves so far).
#include <string>

#include <xgrad/xgrad.hpp>

#include "pictures.hpp"

namespace fashion {

struct Progress {
  std::string model;
  int epochs_done = 0;
  History history;
};

void save_checkpoint(const std::string& folder, xgrad::nn::Sequential& net, xgrad::optim::Adam& optimizer,
                     const Progress& progress);
// Throws xgrad::Error when the folder holds no checkpoint or one of another model.
Progress load_checkpoint(const std::string& folder, xgrad::nn::Sequential& net, xgrad::optim::Adam& optimizer,
                         const std::string& model);

}  // namespace fashion
