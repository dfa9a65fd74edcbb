#pragma once
// Every module of xgrad::nn: the Module base and its holders, Linear, Identity, Flatten, the
// containers (Sequential, ModuleList, Functional), the activations, the losses and the
// initialisers.
#include "activation.hpp"
#include "any_module.hpp"
#include "batchnorm.hpp"
#include "functional_module.hpp"
#include "clip_grad.hpp"
#include "dropout.hpp"
#include "embedding.hpp"
#include "conv.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "loss.hpp"
#include "loss_regression.hpp"
#include "module.hpp"
#include "module_holder.hpp"
#include "module_list.hpp"
#include "ordered_dict.hpp"
#include "pooling.hpp"
#include "sequential.hpp"
