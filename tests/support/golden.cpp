#include "golden.hpp"

#include "compare.hpp"

#include <fstream>
#include <limits>
#include <map>
#include <memory>

#ifndef XGRAD_GOLDEN_DIR
#error "XGRAD_GOLDEN_DIR must name the tests/golden folder"
#endif

namespace xgrad::testing {

std::string golden_path(const std::string& file_name) { return std::string(XGRAD_GOLDEN_DIR) + "/" + file_name; }

double golden_number(const Json& value) {
  if (value.is_number()) return value.get<double>();
  const std::string text = value.get<std::string>();
  if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  throw Error("golden: unknown number " + text);
}

Scalar golden_scalar(const Json& value) {
  if (value.is_boolean()) return Scalar(value.get<bool>());
  if (value.is_number_integer()) return Scalar(value.get<std::int64_t>());
  return Scalar(golden_number(value));
}

const Json& golden_file(const std::string& file_name) {
  static std::map<std::string, Json> cache;
  auto found = cache.find(file_name);
  if (found != cache.end()) return found->second;
  std::ifstream in(golden_path(file_name));
  check(in.good(), "golden: cannot open ", file_name);
  return cache.emplace(file_name, Json::parse(in)).first->second;
}

std::vector<Json> golden_cases(const std::string& file_name, const std::string& fn) {
  std::vector<Json> cases;
  for (const Json& entry : golden_file(file_name).at("cases"))
    if (entry.at("fn") == fn) cases.push_back(entry);
  return cases;
}

Tensor golden_tensor(const Json& tensor) {
  const Shape shape = tensor.at("shape").get<Shape>();
  const std::string dtype = tensor.at("dtype");
  const Json& data = tensor.at("data");
  if (dtype == "int64") {
    std::vector<std::int64_t> values = data.get<std::vector<std::int64_t>>();
    return from_buffer(values.data(), shape);
  }
  if (dtype == "uint8") {
    std::vector<std::uint8_t> values = data.get<std::vector<std::uint8_t>>();
    return from_buffer(values.data(), shape);
  }
  if (dtype == "bool") {
    // std::vector<bool> has no data(): go through a plain array.
    std::unique_ptr<bool[]> values(new bool[data.size() + 1]);
    for (std::size_t i = 0; i < data.size(); ++i) values[i] = data[i].get<bool>();
    return from_buffer(values.get(), shape);
  }
  std::vector<double> values;
  for (const Json& value : data) values.push_back(golden_number(value));
  if (dtype == "float64") return from_buffer(values.data(), shape);
  std::vector<float> narrowed(values.begin(), values.end());
  return from_buffer(narrowed.data(), shape);
}

::testing::AssertionResult matches_fixture(const Json& fixture,
                                           const std::function<Tensor(const std::vector<Tensor>&)>& fn) {
  std::vector<Tensor> inputs;
  for (const Json& input : fixture.at("inputs")) inputs.push_back(golden_tensor(input).requires_grad_());
  const Tensor out = fn(inputs);
  if (auto same = matches_golden(out, golden_tensor(fixture.at("output"))); !same)
    return same << " (output)";
  const std::string expected_name = fixture.at("grad_fn");
  if (!out.grad_fn() || out.grad_fn()->name() != expected_name)
    return ::testing::AssertionFailure() << "grad_fn " << (out.grad_fn() ? out.grad_fn()->name() : "null")
                                         << " != expected " << expected_name;
  out.backward(golden_tensor(fixture.at("upstream")));
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (auto same = matches_golden(inputs[i].grad(), golden_tensor(fixture.at("grads").at(i))); !same)
      return same << " (gradient of input " << i << ")";
  return ::testing::AssertionSuccess();
}

Reduction golden_reduction(const Json& options) {
  const std::string name = options.value("reduction", "mean");
  if (name == "none") return kNone;
  if (name == "sum") return kSum;
  if (name == "batchmean") return kBatchMean;
  return kMean;
}

IntArrayRef golden_sizes(const Json& args, const char* name, IntArrayRef fallback) {
  if (!args.contains(name)) return fallback;
  const Json& value = args.at(name);
  if (value.is_number()) return value.get<std::int64_t>();
  return value.get<std::vector<std::int64_t>>();
}

}  // namespace xgrad::testing
