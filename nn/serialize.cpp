#include <xgrad/nn/serialize.hpp>

#include <algorithm>
#include <map>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/nn/npz_impl.hpp>
#include <xgrad/optim/reduce_on_plateau_scheduler.hpp>
#include <xgrad/optim/state_dict_impl.hpp>

namespace xgrad {

namespace {

// Parameters, then buffers, under their dotted names.
std::vector<npz::Entry> named_tensors(const nn::Module& module) {
  std::vector<npz::Entry> tensors;
  for (const auto& item : module.named_parameters()) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers()) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

// A value read from the file, checked against the tensor it is for.
const Tensor& matching_entry(const std::map<std::string, Tensor>& file, const std::string& name,
                             const Tensor& target, const std::string& path) {
  const auto found = file.find(name);
  check(found != file.end(), "load: ", path, ": no entry \"", name, "\" for the module's tensor \"", name, "\" (",
        shape_str(target.shape()), ", ", dtype_name(target.dtype()), ")");
  const Tensor& value = found->second;
  check(value.shape() == target.shape() && value.dtype() == target.dtype(), "load: ", path, ": entry \"", name,
        "\" holds ", dtype_name(value.dtype()), " of shape ", shape_str(value.shape()), " but the module's \"", name,
        "\" is ", dtype_name(target.dtype()), " of shape ", shape_str(target.shape()));
  return value;
}

// The element-wise copy that commits a load; the storage stays the module's, and a
// non-contiguous parameter is written through its strides.
void copy_into(Tensor& target, const Tensor& value) {
  NoGradGuard no_grad;
  target.copy_(value);
}

}  // namespace

void save(const nn::Module& module, const std::string& path) { npz::write("save", path, named_tensors(module)); }

void load(nn::Module& module, const std::string& path) {
  std::map<std::string, Tensor> file;
  for (auto& [name, value] : npz::read("load", path)) file.emplace(name, std::move(value));
  std::vector<npz::Entry> targets = named_tensors(module);
  std::vector<Tensor> values;
  for (const auto& [name, target] : targets) values.push_back(matching_entry(file, name, target, path));
  if (file.size() != targets.size()) {
    for (const auto& [name, target] : targets) file.erase(name);
    throw Error(concat("load: ", path, ": entry \"", file.begin()->first,
                       "\" matches no parameter or buffer of the module"));
  }
  // Every entry fits: only now is the module changed.
  for (std::size_t i = 0; i < targets.size(); ++i) copy_into(targets[i].second, values[i]);
}

void save(const optim::Optimizer& optimizer, const std::string& path) {
  npz::write("save", path, optim::state_dict(optimizer));
}

void load(optim::Optimizer& optimizer, const std::string& path) {
  optim::load_state_dict(optimizer, npz::read("load", path), "load: " + path);
}

namespace {

template <class Scheduler>
void check_same_optimizer(const char* op, const optim::Optimizer& optimizer, const Scheduler& scheduler,
                          const std::string& path) {
  check(&scheduler.optimizer() == &optimizer, op, ": ", path, ": the ", scheduler.name(),
        " scheduler was made for another optimiser than the ", optimizer.name(), " one given");
}

// state_slots() hands out writable members, as the scheduler needs them to load; saving only reads.
template <class Scheduler>
void save_with_scheduler(const optim::Optimizer& optimizer, const Scheduler& scheduler, const std::string& path) {
  check_same_optimizer("save", optimizer, scheduler, path);
  std::vector<npz::Entry> entries = optim::state_dict(optimizer);
  const auto slots = const_cast<Scheduler&>(scheduler).state_slots();
  for (auto& entry : optim::scheduler_state_dict(scheduler.name(), slots)) entries.push_back(std::move(entry));
  npz::write("save", path, entries);
}

template <class Scheduler>
void load_with_scheduler(optim::Optimizer& optimizer, Scheduler& scheduler, const std::string& path) {
  check_same_optimizer("load", optimizer, scheduler, path);
  optim::load_state_dict(optimizer, scheduler.name(), scheduler.state_slots(), npz::read("load", path),
                         "load: " + path);
}

}  // namespace

void save(const optim::Optimizer& optimizer, const optim::LRScheduler& scheduler, const std::string& path) {
  save_with_scheduler(optimizer, scheduler, path);
}

void load(optim::Optimizer& optimizer, optim::LRScheduler& scheduler, const std::string& path) {
  load_with_scheduler(optimizer, scheduler, path);
}

void save(const optim::Optimizer& optimizer, const optim::ReduceLROnPlateauScheduler& scheduler,
          const std::string& path) {
  save_with_scheduler(optimizer, scheduler, path);
}

void load(optim::Optimizer& optimizer, optim::ReduceLROnPlateauScheduler& scheduler, const std::string& path) {
  load_with_scheduler(optimizer, scheduler, path);
}

}  // namespace xgrad
