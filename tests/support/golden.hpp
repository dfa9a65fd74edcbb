#pragma once
// Reading the PyTorch fixtures of tests/golden/ (format: tests/golden/README.md).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>

#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace xgrad::testing {

using Json = nlohmann::json;

// The path of tests/golden/<file_name>, for fixtures that are not JSON (tests/golden/npz/).
std::string golden_path(const std::string& file_name);
// The parsed file tests/golden/<file_name>; parsed once per process.
const Json& golden_file(const std::string& file_name);
// Its "cases" whose "fn" equals fn.
std::vector<Json> golden_cases(const std::string& file_name, const std::string& fn);
// A fixture tensor in its own dtype ("nan", "inf", "-inf" strings become those doubles).
Tensor golden_tensor(const Json& tensor);
// A fixture number: a JSON number, or one of the strings "nan", "inf", "-inf".
double golden_number(const Json& value);
// A fixture scalar of its JSON kind: true/false a bool, 2 an integer, 2.0 (or "nan") a floating one.
Scalar golden_scalar(const Json& value);
// Checks one differentiable case of math.json (format: tests/golden/README.md): calls fn on the
// case's inputs (as leaves that require grad), compares the output and its grad_fn name with
// PyTorch's, runs backward with the case's upstream gradient and compares every input's gradient.
::testing::AssertionResult matches_fixture(const Json& fixture,
                                           const std::function<Tensor(const std::vector<Tensor>&)>& fn);
// Parses "none" | "mean" | "sum" | "batchmean".
Reduction golden_reduction(const Json& options);
// A size argument of a fixture's "args" (stride, padding, kernel_size...): one number or a list,
// as PyTorch takes them; `fallback` where the case leaves it out.
IntArrayRef golden_sizes(const Json& args, const char* name, IntArrayRef fallback);

}  // namespace xgrad::testing
