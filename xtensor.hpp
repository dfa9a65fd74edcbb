#pragma once
// xtensor interop: from_xarray(expr) copies an xtensor expression into a Tensor, to_xarray<T>(t)
// copies a Tensor out. <xgrad/xgrad.hpp> includes it unless XGRAD_NO_XTENSOR is defined (which
// saves a program about a second of compile time); this header brings it back to the files of such
// a program that use it.
#include <xgrad/core/xarray_interop.hpp>
#include <xgrad/xgrad.hpp>
