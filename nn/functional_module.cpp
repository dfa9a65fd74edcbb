#include <xgrad/nn/functional_module.hpp>

#include <xgrad/core/error.hpp>

namespace xgrad::nn {

FunctionalImpl::FunctionalImpl(Function function) : function_(std::move(function)) {
  check(static_cast<bool>(function_), "Functional: got an empty function");
}

Tensor FunctionalImpl::forward(Tensor input) { return function_(std::move(input)); }

}  // namespace xgrad::nn
