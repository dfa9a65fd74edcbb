#pragma once
// tests/golden/schedulers.json (written by tests/golden/make_golden_schedulers.py): the schedulers a
// fixture describes, made with xgrad's classes.
#include <memory>
#include <string>
#include <vector>

#include "golden.hpp"

namespace xgrad::testing {

// The function LambdaLR or MultiplicativeLR is given in the fixture as the Python expression `name`
// ("0.95 ** epoch"), computed as Python computes it.
optim::LRLambda golden_lambda(const std::string& name);

// The scheduler a fixture object describes ({"type": "LinearLR", "start_factor": 0.1, ...}, Python's
// argument names, Python's defaults for those left out), made for `optimizer`.
std::shared_ptr<optim::LRScheduler> make_golden_scheduler(const Json& spec, optim::Optimizer& optimizer);

// Each group's momentum as OneCycleLR cycles it: the first of "betas" where the options have them,
// else "momentum".
std::vector<double> group_momenta(optim::Optimizer& optimizer);

// The groups' learning rates.
std::vector<double> group_lrs(const optim::Optimizer& optimizer);

// Whether two lists of rates are equal to the last bit; a failure prints both in full precision.
::testing::AssertionResult same_doubles(const std::vector<double>& actual, const std::vector<double>& expected);

}  // namespace xgrad::testing
