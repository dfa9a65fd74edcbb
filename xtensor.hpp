#pragma once
// xtensor interop, kept out of <xgrad/xgrad.hpp> so that a program that does not use it does not
// compile xtensor's headers: from_xarray(expr) copies an xtensor expression into a Tensor,
// to_xarray<T>(t) copies a Tensor out.
#include <xgrad/core/xarray_interop.hpp>
#include <xgrad/xgrad.hpp>
