#pragma once
// Checkpoints: a module's parameters and buffers, or an optimiser's state, in one NumPy .npz file.
//
//   xgrad::save(net, "net.npz");      // every parameter and buffer of the model
//   xgrad::save(adam, "adam.npz");    // step counts, moment buffers, each group's options
//   ...
//   xgrad::load(net, "net.npz");      // into a model of the same architecture
//   xgrad::load(adam, "adam.npz");    // into an optimiser of the same type over those parameters
//
// Training resumed from the two files continues exactly as if it had not stopped. A learning-rate
// scheduler goes into the optimiser's file with it:
//
//   xgrad::save(adam, scheduler, "adam.npz");
//   ...  // a new model, optimiser and scheduler made as at the start, then
//   xgrad::load(adam, scheduler, "adam.npz");
//
// (An optimiser alone also loads from such a file; its scheduler's entries are passed over.)
//
// An .npz file is a zip archive of .npy arrays, which NumPy reads as it reads its own:
//
//   z = numpy.load("net.npz")
//   z.files               # ['0.weight', '0.bias', '2.weight', '2.bias']
//   z["0.weight"].shape   # (64, 2)
//
// A module's entries are named as named_parameters() and named_buffers() name them ("0.weight",
// "fc1.bias", "bn.running_mean"); each holds the tensor's dtype and shape, bit for bit.
//
// An optimiser's file holds, for an optimiser whose parameters are numbered as its state() numbers
// them (group 0's first, then group 1's, ...):
//
//   "optimizer"                  uint8, the optimiser's name ("Adam") as ASCII bytes:
//                                bytes(z["optimizer"]).decode()
//   "param_groups.<g>.params"    int64 (n,), the numbers of group g's parameters
//   "param_groups.<g>.<option>"  each option of group g under PyTorch's key: float64 0-dim ("lr",
//                                "eps", "weight_decay", ...), float64 (2,) ("betas"), bool 0-dim
//                                ("amsgrad", "nesterov", "maximize", ...); the options a
//                                scheduler lowered are the ones saved
//   "state.<i>.step"             int64 0-dim, parameter i's step count (0 for SGD, as it keeps none)
//   "state.<i>.<slot>"           parameter i's state tensors that exist, under ParamState's names:
//                                momentum_buffer, exp_avg, exp_avg_sq, max_exp_avg_sq, square_avg,
//                                grad_avg, sum (its shape and dtype)
//
// which is PyTorch's optimizer.state_dict() laid out flat. An optimiser written outside xgrad saves
// the options its options type lists in option_slots() (none unless it overrides it).
//
// A scheduler saved with it adds its state under the keys of Python's scheduler.state_dict(), but
// for "step_count", libtorch's count of step() calls:
//
//   "scheduler"                  uint8, the scheduler's class name ("CosineAnnealingLR") as ASCII
//   "scheduler.<key>"            each value of its state_slots(): int64 0-dim ("last_epoch",
//                                "step_count", "num_bad_epochs", ...), float64 0-dim ("best"),
//                                float64 (groups,) ("base_lrs", "_last_lr")
//   "scheduler._schedulers.<k>"  for SequentialLR, the name of the k-th scheduler it holds, and
//   "scheduler._schedulers.<k>.<key>" that scheduler's values
//
// Its arguments (gamma, T_max, the functions of LambdaLR, ...) are not saved: the scheduler loaded
// into must be made with the same ones, for the same optimiser.
//
// Errors: load() throws Error naming the file and the entry when the file is not a zip archive,
// is truncated or corrupt (bad CRC), an entry is missing or left over, has another shape or dtype,
// has a bad .npy header or less data than its header says, or comes from an optimiser of another
// type or with other groups or parameter counts. Everything is read and checked first, so a failed
// load leaves the module or optimiser as it was. save() throws when the file cannot be written; it
// replaces an existing file only once the new one is complete.
#include <memory>
#include <string>
#include <type_traits>

#include <xgrad/core/error.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad {

namespace optim {
class Optimizer;
class LRScheduler;
class ReduceLROnPlateauScheduler;
}  // namespace optim

// Writes every parameter and buffer of `module` to `path` (conventionally *.npz).
void save(const nn::Module& module, const std::string& path);
// Copies the values in `path` into the module's parameters and buffers in place: an optimiser
// holding them sees the new values, and each one's version goes up as after an in-place op.
void load(nn::Module& module, const std::string& path);

// The same through a holder (nn::Sequential, a user's XGRAD_MODULE) or a shared_ptr. A holder is a
// handle: loading through a const one changes the module it holds.
template <class M>
void save(const nn::ModuleHolder<M>& module, const std::string& path) {
  save(static_cast<const nn::Module&>(*module), path);
}
template <class M>
void load(const nn::ModuleHolder<M>& module, const std::string& path) {
  load(static_cast<nn::Module&>(*module.ptr()), path);
}
template <class M, class = std::enable_if_t<std::is_base_of_v<nn::Module, M>>>
void save(const std::shared_ptr<M>& module, const std::string& path) {
  check(module != nullptr, "save: the module pointer is null (", path, ")");
  save(static_cast<const nn::Module&>(*module), path);
}
template <class M, class = std::enable_if_t<std::is_base_of_v<nn::Module, M>>>
void load(const std::shared_ptr<M>& module, const std::string& path) {
  check(module != nullptr, "load: the module pointer is null (", path, ")");
  load(static_cast<nn::Module&>(*module), path);
}

// Writes the optimiser's state and group options to `path`, in the layout above.
void save(const optim::Optimizer& optimizer, const std::string& path);
// Replaces the optimiser's state and its groups' options with those in `path`, which must come
// from an optimiser of the same type with the same groups of parameters of the same shapes.
void load(optim::Optimizer& optimizer, const std::string& path);

// The optimiser and a scheduler made for it, in one file (the layout above). load() checks the
// optimiser's entries and the scheduler's (its type, and for SequentialLR the type of every
// scheduler it holds) before changing either. Both throw Error when the scheduler was made for
// another optimiser.
void save(const optim::Optimizer& optimizer, const optim::LRScheduler& scheduler, const std::string& path);
void load(optim::Optimizer& optimizer, optim::LRScheduler& scheduler, const std::string& path);
void save(const optim::Optimizer& optimizer, const optim::ReduceLROnPlateauScheduler& scheduler,
          const std::string& path);
void load(optim::Optimizer& optimizer, optim::ReduceLROnPlateauScheduler& scheduler, const std::string& path);

}  // namespace xgrad
