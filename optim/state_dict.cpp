#include <xgrad/optim/state_dict_impl.hpp>

#include <functional>
#include <limits>
#include <map>
#include <memory>

#include <xgrad/core/error.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad::optim {

namespace {

template <class T>
Tensor scalar(T value) {
  Array<T> values(std::vector<std::size_t>{});
  values() = value;
  return make_tensor(std::move(values));
}

template <class T>
Tensor vector_of(const std::vector<T>& elements) {
  Array<T> values(std::vector<std::size_t>{elements.size()});
  std::copy(elements.begin(), elements.end(), values.begin());
  return make_tensor(std::move(values));
}

// The optimiser's name as its ASCII bytes: .npz holds arrays, and bytes(z["optimizer"]) reads it back.
Tensor name_tensor(const std::string& name) { return vector_of(std::vector<std::uint8_t>(name.begin(), name.end())); }

Tensor option_tensor(const OptionSlot& slot) {
  return std::visit(
      [](auto* member) {
        using Member = std::remove_pointer_t<decltype(member)>;
        if constexpr (std::is_same_v<Member, std::tuple<double, double>>)
          return vector_of(std::vector<double>{std::get<0>(*member), std::get<1>(*member)});
        else return scalar(*member);
      },
      slot.value);
}

// The entries of a file, taken one by one by name, so that what is left at the end matches nothing.
class Entries {
 public:
  Entries(const NamedTensors& entries, const std::string& where) : where_(where) {
    for (const auto& [name, tensor] : entries) left_.emplace(name, tensor);
  }

  bool has(const std::string& name) const { return left_.count(name) == 1; }

  // The entry `name`, whatever it holds.
  Tensor take_any(const std::string& name, const std::string& what) {
    const auto found = left_.find(name);
    check(found != left_.end(), where_, ": no entry \"", name, "\" (", what, ")");
    const Tensor tensor = found->second;
    left_.erase(found);
    return tensor;
  }

  // The entry `name`, checked to hold `dtype` in `shape`.
  Tensor take(const std::string& name, Dtype dtype, const Shape& shape, const std::string& what) {
    const Tensor tensor = take_any(name, what);
    check(tensor.dtype() == dtype && tensor.shape() == shape, where_, ": entry \"", name, "\" holds ",
          dtype_name(tensor.dtype()), " of shape ", shape_str(tensor.shape()), " but ", what, " is ", dtype_name(dtype),
          " of shape ", shape_str(shape));
    return tensor;
  }

  // `owners` says what the entries were matched against ("the Adam optimiser (...)").
  void check_all_taken(const std::string& owners) const {
    check(left_.empty(), where_, ": entry \"", left_.empty() ? "" : left_.begin()->first, "\" matches nothing in ",
          owners);
  }

  const std::string& where() const { return where_; }

 private:
  std::map<std::string, Tensor> left_;
  const std::string& where_;
};

// How many entries "<prefix><n><suffix>" there are for n = 0, 1, 2, ... without a gap.
std::size_t count_numbered(const Entries& entries, const std::string& prefix, const std::string& suffix) {
  std::size_t count = 0;
  while (entries.has(concat(prefix, count, suffix))) ++count;
  return count;
}

// The name in entry `entry` must be `expected`; `kind` is "optimiser" or "scheduler".
void check_name(Entries& entries, const std::string& entry, const std::string& expected, const char* kind) {
  const Tensor saved = entries.take_any(entry, concat("the ", kind, "'s name"));
  std::string name;
  if (saved.dtype() == kUInt8 && saved.dim() == 1) {
    const std::uint8_t* bytes = saved.data<std::uint8_t>();
    name.assign(bytes, bytes + saved.numel());
  }
  check(name == expected, entries.where(), ": entry \"", entry, "\" says the file holds the state of ",
        name.empty() ? concat("no ", kind, " xgrad wrote") : concat("a ", name, " ", kind), ", not of a ", expected,
        " one");
}

// The file must come from an optimiser of the same type: Adam's and AdamW's entries have the same
// names, so only the saved name tells them apart.
void check_optimizer_type(Entries& entries, const Optimizer& optimizer) {
  check_name(entries, "optimizer", optimizer.name(), "optimiser");
}

// A group's entry "params" numbers its parameters as state() does; they must be this group's.
void check_group_parameters(Entries& entries, const OptimizerParamGroup& group, std::size_t g, std::int64_t first) {
  const auto count = static_cast<std::int64_t>(group.params().size());
  const std::string name = concat("param_groups.", g, ".params");
  const Tensor numbers = entries.take(name, kInt64, {count}, concat("group ", g, "'s ", count, " parameter numbers"));
  for (std::int64_t k = 0; k < count; ++k)
    check(numbers.data<std::int64_t>()[k] == first + k, entries.where(), ": entry \"", name,
          "\" numbers the group's parameters differently from the optimiser (", first, " to ", first + count - 1, ")");
}

std::unique_ptr<OptimizerOptions> load_options(Entries& entries, const OptimizerParamGroup& group, std::size_t g) {
  std::unique_ptr<OptimizerOptions> options = group.options().clone();
  for (const OptionSlot& slot : options->option_slots()) {
    const std::string name = concat("param_groups.", g, ".", slot.name);
    const std::string what = concat("group ", g, "'s option ", slot.name);
    std::visit(
        [&](auto* member) {
          using Member = std::remove_pointer_t<decltype(member)>;
          if constexpr (std::is_same_v<Member, std::tuple<double, double>>) {
            const Tensor value = entries.take(name, kFloat64, {2}, what);
            *member = {value.data<double>()[0], value.data<double>()[1]};
          } else {
            *member = entries.take(name, dtype_of<Member>(), {}, what).template item<Member>();
          }
        },
        slot.value);
  }
  return options;
}

ParamState load_param_state(Entries& entries, const Tensor& parameter, std::size_t i) {
  ParamState state;
  const std::string prefix = concat("state.", i, ".");
  state.step = entries.take(prefix + "step", kInt64, {}, concat("parameter ", i, "'s step count")).item<std::int64_t>();
  check(state.step >= 0, entries.where(), ": entry \"", prefix, "step\" holds a negative step count ", state.step);
  for (const auto& [slot, tensor] : state.tensors())
    if (entries.has(prefix + slot))
      *tensor = entries.take(prefix + slot, parameter.dtype(), parameter.shape(),
                             concat("parameter ", i, " (", parameter.name(), ")"));
  return state;
}

std::string optimizer_description(const Optimizer& optimizer) {
  return concat("the ", optimizer.name(), " optimiser (", optimizer.param_groups().size(), " parameter groups, ",
                optimizer.size(), " parameters)");
}

// Reads and checks the optimiser's entries; what it returns puts them into the optimiser.
std::function<void()> take_optimizer(Optimizer& optimizer, Entries& entries) {
  check_optimizer_type(entries, optimizer);
  const std::size_t groups = count_numbered(entries, "param_groups.", ".params");
  const std::size_t parameters = count_numbered(entries, "state.", ".step");
  check(groups == optimizer.param_groups().size() && parameters == optimizer.size(), entries.where(),
        ": the file holds ", groups, " parameter groups with ", parameters, " parameters, the ", optimizer.name(),
        " optimiser ", optimizer.param_groups().size(), " with ", optimizer.size());

  auto options = std::make_shared<std::vector<std::unique_ptr<OptimizerOptions>>>();
  auto states = std::make_shared<std::vector<ParamState>>();
  std::size_t i = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    const OptimizerParamGroup& group = optimizer.param_groups()[g];
    check_group_parameters(entries, group, g, static_cast<std::int64_t>(i));
    options->push_back(load_options(entries, group, g));
    for (const Tensor& parameter : group.params()) states->push_back(load_param_state(entries, parameter, i++));
  }
  return [&optimizer, options, states] {
    for (std::size_t g = 0; g < options->size(); ++g) optimizer.param_groups()[g].set_options(std::move((*options)[g]));
    optimizer.state() = std::move(*states);
  };
}

// ---- schedulers --------------------------------------------------------------------------------

constexpr const char* kScheduler = "scheduler";

bool is_scheduler_entry(const std::string& name) {
  return name == kScheduler || name.rfind(concat(kScheduler, "."), 0) == 0;
}

Tensor slot_tensor(const SchedulerSlot& slot) {
  return std::visit(
      [](auto* member) {
        using Member = std::remove_const_t<std::remove_pointer_t<decltype(member)>>;
        if constexpr (std::is_same_v<Member, std::vector<double>>) return vector_of(*member);
        else if constexpr (std::is_same_v<Member, std::string>) return name_tensor(*member);
        else if constexpr (std::is_same_v<Member, double>) return scalar(*member);
        else return scalar(static_cast<std::int64_t>(*member));
      },
      slot.value);
}

// Reads and checks the entry of one slot; what it returns assigns it. A name is only checked.
std::function<void()> take_slot(Entries& entries, const SchedulerSlot& slot) {
  const std::string name = concat(kScheduler, ".", slot.name);
  const std::string what = concat("the scheduler's ", slot.name);
  return std::visit(
      [&](auto* member) -> std::function<void()> {
        using Member = std::remove_const_t<std::remove_pointer_t<decltype(member)>>;
        if constexpr (std::is_same_v<Member, std::string>) {
          check_name(entries, name, *member, "scheduler");
          return [] {};
        } else if constexpr (std::is_same_v<Member, std::vector<double>>) {
          const Tensor value = entries.take(name, kFloat64, {static_cast<std::int64_t>(member->size())}, what);
          return [member, values = value.to_vector<double>()] { *member = values; };
        } else if constexpr (std::is_same_v<Member, double>) {
          const double value = entries.take(name, kFloat64, {}, what).item<double>();
          return [member, value] { *member = value; };
        } else {
          const auto value = entries.take(name, kInt64, {}, what).item<std::int64_t>();
          if constexpr (std::is_same_v<Member, unsigned>)
            check(value >= 0 && value <= static_cast<std::int64_t>(std::numeric_limits<unsigned>::max()),
                  entries.where(), ": entry \"", name, "\" holds the count ", value, ", out of range");
          return [member, value] { *member = static_cast<Member>(value); };
        }
      },
      slot.value);
}

}  // namespace

NamedTensors state_dict(const Optimizer& optimizer) {
  NamedTensors entries;
  entries.emplace_back("optimizer", name_tensor(optimizer.name()));
  std::int64_t first = 0;
  for (std::size_t g = 0; g < optimizer.param_groups().size(); ++g) {
    const OptimizerParamGroup& group = optimizer.param_groups()[g];
    std::vector<std::int64_t> numbers(group.params().size());
    for (std::size_t k = 0; k < numbers.size(); ++k) numbers[k] = first + static_cast<std::int64_t>(k);
    first += static_cast<std::int64_t>(numbers.size());
    entries.emplace_back(concat("param_groups.", g, ".params"), vector_of(numbers));
    // option_slots() hands out writable members, so it is asked of a copy.
    const std::unique_ptr<OptimizerOptions> options = group.options().clone();
    for (const OptionSlot& slot : options->option_slots())
      entries.emplace_back(concat("param_groups.", g, ".", slot.name), option_tensor(slot));
  }
  // Parameters added to a group's params() directly have no state until the next step.
  const ParamState fresh;
  for (std::size_t i = 0; i < optimizer.size(); ++i) {
    const ParamState& state = i < optimizer.state().size() ? optimizer.state()[i] : fresh;
    entries.emplace_back(concat("state.", i, ".step"), scalar(state.step));
    for (const auto& [slot, tensor] : state.tensors())
      if (tensor->defined()) entries.emplace_back(concat("state.", i, ".", slot), *tensor);
  }
  return entries;
}

void load_state_dict(Optimizer& optimizer, const NamedTensors& file_entries, const std::string& where) {
  NamedTensors optimizer_entries;
  for (const auto& entry : file_entries)
    if (!is_scheduler_entry(entry.first)) optimizer_entries.push_back(entry);
  Entries entries(optimizer_entries, where);
  const auto commit = take_optimizer(optimizer, entries);
  entries.check_all_taken(optimizer_description(optimizer));
  commit();
}

NamedTensors scheduler_state_dict(const std::string& name, const std::vector<SchedulerSlot>& slots) {
  NamedTensors entries;
  entries.emplace_back(kScheduler, name_tensor(name));
  for (const SchedulerSlot& slot : slots) entries.emplace_back(concat(kScheduler, ".", slot.name), slot_tensor(slot));
  return entries;
}

void load_state_dict(Optimizer& optimizer, const std::string& scheduler_name,
                     const std::vector<SchedulerSlot>& scheduler_slots, const NamedTensors& file_entries,
                     const std::string& where) {
  Entries entries(file_entries, where);
  const auto commit_optimizer = take_optimizer(optimizer, entries);
  check_name(entries, kScheduler, scheduler_name, "scheduler");
  std::vector<std::function<void()>> assignments;
  for (const SchedulerSlot& slot : scheduler_slots) assignments.push_back(take_slot(entries, slot));
  entries.check_all_taken(concat(optimizer_description(optimizer), " or the ", scheduler_name, " scheduler"));

  // Everything fits: only now are the optimiser and the scheduler changed.
  commit_optimizer();
  for (const auto& assign : assignments) assign();
}

}  // namespace xgrad::optim
