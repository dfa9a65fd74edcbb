#pragma once
// The one header a program needs: #include <xgrad/xgrad.hpp>
//
//   xgrad             Tensor, factories, autograd (core/), differentiable ops (ops/),
//                     gradcheck and to_dot for teaching
//   xgrad::nn         modules, losses and their options; nn::functional for the functional forms
//   xgrad::optim      optimisers
//   xgrad::data       datasets (MNIST, TensorDataset), transforms, samplers, make_data_loader
#include "core/anomaly_mode.hpp"
#include "core/autograd.hpp"
#include "core/dot.hpp"
#include "core/dtype.hpp"
#include "core/enum.hpp"
#include "core/error.hpp"
#include "core/factory.hpp"
#include "core/grad_mode.hpp"
#include "core/gradcheck.hpp"
#include "core/node.hpp"
#include "core/reduction.hpp"
#include "core/tensor.hpp"
#include "core/utility.hpp"
#include "core/xarray_interop.hpp"
#include "ops/activation.hpp"
#include "ops/compare.hpp"
#include "ops/dropout.hpp"
#include "ops/conv.hpp"
#include "ops/elementwise.hpp"
#include "ops/embedding.hpp"
#include "ops/indexing.hpp"
#include "ops/linalg.hpp"
#include "ops/loss.hpp"
#include "ops/normalization.hpp"
#include "ops/pool.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"
#include "ops/softmax.hpp"
#include "nn/functional.hpp"
#include "nn/modules.hpp"
#include "nn/serialize.hpp"
#include "optim/optim.hpp"
#include "data/data.hpp"
