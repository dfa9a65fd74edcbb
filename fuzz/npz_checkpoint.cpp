// An .npz checkpoint loaded with xgrad::load. The input is
//   kind (1 byte) | the .npz file
// where kind % 8 picks what the file is loaded into: the module (a Linear and a BatchNorm1d, so
// parameters and buffers), one of five optimisers over its parameters (Adam with two groups), Adam
// with a StepLR, or SGD with a ReduceLROnPlateau. A load must either succeed, after which a training
// step runs, or throw xgrad::Error and leave the object exactly as it was.
#include <xgrad/nn/npz_impl.hpp>
#include <xgrad/xgrad.hpp>

#include "fuzz.hpp"

namespace xgrad::fuzz {

namespace {

// The input's file, in the target's scratch directory beside the object's own saves.
constexpr const char* kCheckpoint = "checkpoint.npz";

nn::Sequential make_model() {
  manual_seed(0);
  return nn::Sequential(nn::Linear(3, 2), nn::BatchNorm1d(2));
}

// One training step, so that every optimiser has state to save and to compare.
void train_step(nn::Sequential& model) {
  model->zero_grad();
  model->forward(ones({4, 3}, kFloat32)).pow(2).sum().backward();
}

std::unique_ptr<optim::Optimizer> make_optimizer(int kind, nn::Sequential& model) {
  std::vector<Tensor> params = model->parameters();
  switch (kind) {
    case 1:
      return std::make_unique<optim::SGD>(params, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
    case 2: {
      // Two groups, the second with its own lr, so that the groups' layout is read too.
      std::vector<optim::OptimizerParamGroup> groups;
      groups.emplace_back(std::vector<Tensor>(params.begin(), params.begin() + 2));
      groups.emplace_back(std::vector<Tensor>(params.begin() + 2, params.end()),
                          std::make_unique<optim::AdamOptions>(0.01));
      return std::make_unique<optim::Adam>(std::move(groups), optim::AdamOptions(0.1).amsgrad(true));
    }
    case 3:
      return std::make_unique<optim::AdamW>(params, optim::AdamWOptions(0.1));
    case 4:
      return std::make_unique<optim::Adagrad>(params, optim::AdagradOptions(0.1));
    case 5:
      return std::make_unique<optim::RMSprop>(params, optim::RMSpropOptions(0.1).momentum(0.5).centered(true));
    case 6:
      return std::make_unique<optim::Adam>(params, optim::AdamOptions(0.1));
    default:
      return std::make_unique<optim::SGD>(params, optim::SGDOptions(0.1));
  }
}

// What the object holds, as xgrad::save writes it: compared entry by entry before and after a load
// that failed.
std::vector<npz::Entry> saved_state(const std::function<void(const std::string&)>& save,
                                    const ScratchDirectory& directory) {
  const std::string path = directory.path() + "/state.npz";
  save(path);
  return npz::read("fuzz", path);
}

void check_unchanged(const std::vector<npz::Entry>& before, const std::vector<npz::Entry>& after) {
  if (before.size() != after.size()) throw Finding("a failed load changed the number of saved entries");
  for (std::size_t i = 0; i < before.size(); ++i) {
    const auto& [name, value] = before[i];
    if (after[i].first != name || after[i].second.dtype() != value.dtype() ||
        after[i].second.shape() != value.shape() || !after[i].second.equal(value))
      throw Finding("a failed load changed \"" + name + "\"");
  }
}

// Loads the checkpoint `directory` holds through `load`, comparing what `save` writes before and
// after a load that fails; the three callbacks see one object.
void load_checked(const std::function<void(const std::string&)>& save,
                  const std::function<void(const std::string&)>& load, const std::function<void()>& step,
                  const ScratchDirectory& directory) {
  const std::vector<npz::Entry> before = saved_state(save, directory);
  try {
    load(directory.path() + "/" + kCheckpoint);
  } catch (const Error&) {
    check_unchanged(before, saved_state(save, directory));
    return;
  }
  try {
    step();
  } catch (const Error&) {
    // Loaded options a step refuses (e.g. a negative lr): reported, which is all that is promised.
  }
}

}  // namespace

void npz_checkpoint(Bytes data, std::size_t size) {
  Reader input(data, size);
  const int kind = input.byte() % 8;
  const std::vector<std::uint8_t> file = input.rest();
  const ScratchDirectory directory;
  directory.write(kCheckpoint, file.data(), file.size());

  nn::Sequential model = make_model();
  train_step(model);
  if (kind == 0) {
    load_checked([&](const std::string& p) { save(model, p); }, [&](const std::string& p) { load(model, p); },
                 [&] { model->forward(ones({4, 3}, kFloat32)); }, directory);
    return;
  }
  std::unique_ptr<optim::Optimizer> optimizer = make_optimizer(kind, model);
  optimizer->step();
  const auto step = [&] {
    train_step(model);
    optimizer->step();
  };
  if (kind == 6) {
    optim::StepLR scheduler(*optimizer, 2, 0.5);
    scheduler.step();
    load_checked([&](const std::string& p) { save(*optimizer, scheduler, p); },
                 [&](const std::string& p) { load(*optimizer, scheduler, p); },
                 [&] {
                   step();
                   scheduler.step();
                 },
                 directory);
  } else if (kind == 7) {
    optim::ReduceLROnPlateauScheduler scheduler(*optimizer);
    scheduler.step(1.0);
    load_checked([&](const std::string& p) { save(*optimizer, scheduler, p); },
                 [&](const std::string& p) { load(*optimizer, scheduler, p); },
                 [&] {
                   step();
                   scheduler.step(0.5);
                 },
                 directory);
  } else {
    load_checked([&](const std::string& p) { save(*optimizer, p); },
                 [&](const std::string& p) { load(*optimizer, p); }, step, directory);
  }
}

}  // namespace xgrad::fuzz
