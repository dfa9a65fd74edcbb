#pragma once
// Reading the PyTorch fixtures of tests/golden/ (format: tests/golden/README.md).
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

namespace xgrad::testing {

using Json = nlohmann::json;

// The parsed file tests/golden/<file_name>; parsed once per process.
const Json& golden_file(const std::string& file_name);
// Its "cases" whose "fn" equals fn.
std::vector<Json> golden_cases(const std::string& file_name, const std::string& fn);
// A fixture tensor in its own dtype ("nan", "inf", "-inf" strings become those doubles).
Tensor golden_tensor(const Json& tensor);
// Parses "none" | "mean" | "sum" | "batchmean".
Reduction golden_reduction(const Json& options);

}  // namespace xgrad::testing
