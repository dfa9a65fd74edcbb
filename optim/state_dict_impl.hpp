#pragma once
// Library-internal: an optimiser as the named tensors of a checkpoint, and back (xgrad::save and
// xgrad::load, nn/serialize.hpp, which documents the layout).
#include <string>
#include <utility>
#include <vector>

#include <xgrad/optim/lr_scheduler.hpp>
#include <xgrad/optim/optimizer.hpp>

namespace xgrad::optim {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The optimiser's name, each group's parameter numbers and options, and each parameter's step
// count and defined state tensors.
NamedTensors state_dict(const Optimizer& optimizer);

// Checks every entry against the optimiser (its type, groups, parameter count, option kinds, each
// state tensor's shape and dtype; no entry missing, none left over) and only then replaces the
// groups' options and the state. Errors start with `where` ("load: run.npz") and name the entry.
// A scheduler's entries ("scheduler", "scheduler.*") are passed over: the file of an optimiser
// saved with its scheduler loads into the optimiser alone.
void load_state_dict(Optimizer& optimizer, const NamedTensors& entries, const std::string& where);

// A scheduler of that optimiser: "scheduler" holds its name, "scheduler.<slot>" each slot.
NamedTensors scheduler_state_dict(const std::string& name, const std::vector<SchedulerSlot>& slots);

// The optimiser and one of its schedulers (given by its name and slots) from one file: everything
// is checked first (the scheduler's entries as the optimiser's, and its name and those of the
// schedulers it holds), and only then are both changed.
void load_state_dict(Optimizer& optimizer, const std::string& scheduler_name,
                     const std::vector<SchedulerSlot>& scheduler_slots, const NamedTensors& entries,
                     const std::string& where);

}  // namespace xgrad::optim
