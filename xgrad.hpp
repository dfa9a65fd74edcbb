#pragma once
// The one header a program needs: #include <xgrad/xgrad.hpp>
//
//   xgrad             Tensor, factories, autograd (core/), differentiable ops (ops/),
//                     gradcheck, to_dot, to_html and autograd::TraceGuard for teaching
//   xgrad::nn         modules, losses and their options; nn::functional for the functional forms
//   xgrad::optim      optimisers
//   xgrad::data       datasets (MNIST, TensorDataset), transforms, samplers, make_data_loader
//
// from_xarray and to_xarray (core/xarray_interop.hpp) come with it, as the API promises, and bring
// xtensor's headers, a second of compile time. A program that does not use them defines
// XGRAD_NO_XTENSOR before the include and compiles in under two seconds; <xgrad/xtensor.hpp> adds
// them to such a program's files that want them.
// libtorch's torch/torch.h brings <cmath>, and programs written for it call std::sqrt without it.
#include <cmath>

#include <xgrad/core/anomaly_mode.hpp>
#include <xgrad/core/autograd.hpp>
#include <xgrad/core/dot.hpp>
#include <xgrad/core/dtype.hpp>
#include <xgrad/core/enum.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/gradcheck.hpp>
#include <xgrad/core/html.hpp>
#include <xgrad/core/load_limit.hpp>
#include <xgrad/core/node.hpp>
#include <xgrad/core/reduction.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/core/trace.hpp>
#include <xgrad/core/utility.hpp>
#ifndef XGRAD_NO_XTENSOR
#include <xgrad/core/xarray_interop.hpp>
#endif
#include <xgrad/ops/activation.hpp>
#include <xgrad/ops/attention.hpp>
#include <xgrad/ops/compare.hpp>
#include <xgrad/ops/dropout.hpp>
#include <xgrad/ops/conv.hpp>
#include <xgrad/ops/einsum.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/embedding.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/layer_norm.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/loss.hpp>
#include <xgrad/ops/normalization.hpp>
#include <xgrad/ops/pool.hpp>
#include <xgrad/ops/recurrent.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/sequence.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/tensor_index.hpp>
#include <xgrad/ops/view.hpp>
#include <xgrad/ops/softmax.hpp>
#include <xgrad/nn/functional.hpp>
#include <xgrad/nn/modules.hpp>
#include <xgrad/nn/serialize.hpp>
#include <xgrad/optim/optim.hpp>
#include <xgrad/data/data.hpp>
