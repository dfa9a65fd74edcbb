#pragma once
// Every module of xgrad::nn: the Module base, Linear, Sequential, the activations, the losses and
// the initialisers.
#include "activation.hpp"
#include "clip_grad.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "loss.hpp"
#include "module.hpp"
#include "sequential.hpp"
