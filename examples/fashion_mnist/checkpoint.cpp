#include "checkpoint.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace fashion {

namespace {

void write_series(std::ofstream& out, const char* name, const std::vector<double>& xs, const std::vector<double>& ys) {
  for (std::size_t i = 0; i < xs.size(); ++i) out << name << ' ' << xs[i] << ' ' << ys[i] << '\n';
}

}  // namespace

void save_checkpoint(const std::string& folder, xgrad::nn::Sequential& net, xgrad::optim::Adam& optimizer,
                     const Progress& progress) {
  std::filesystem::create_directories(folder);
  xgrad::save(net, folder + "/model.npz");
  xgrad::save(optimizer, folder + "/optimizer.npz");
  std::ofstream out(folder + "/progress.txt");
  out.precision(17);
  out << "model " << progress.model << "\nepochs " << progress.epochs_done << '\n';
  write_series(out, "loss", progress.history.loss_x, progress.history.loss);
  write_series(out, "accuracy", progress.history.accuracy_x, progress.history.accuracy);
  if (!out) throw xgrad::Error("fashion_mnist: cannot write " + folder + "/progress.txt");
}

Progress load_checkpoint(const std::string& folder, xgrad::nn::Sequential& net, xgrad::optim::Adam& optimizer,
                         const std::string& model) {
  std::ifstream in(folder + "/progress.txt");
  if (!in) throw xgrad::Error("fashion_mnist: no checkpoint in " + folder + " (progress.txt is missing)");
  Progress progress;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    double x = 0, y = 0;
    if (key == "model") {
      fields >> progress.model;
    } else if (key == "epochs") {
      fields >> progress.epochs_done;
    } else if (key == "loss" && fields >> x >> y) {
      progress.history.loss_x.push_back(x);
      progress.history.loss.push_back(y);
    } else if (key == "accuracy" && fields >> x >> y) {
      progress.history.accuracy_x.push_back(x);
      progress.history.accuracy.push_back(y);
    }
  }
  if (progress.model != model) {
    throw xgrad::Error("fashion_mnist: the checkpoint in " + folder + " is of model " + progress.model +
                       ", not " + model);
  }
  xgrad::load(net, folder + "/model.npz");
  xgrad::load(optimizer, folder + "/optimizer.npz");
  return progress;
}

}  // namespace fashion
