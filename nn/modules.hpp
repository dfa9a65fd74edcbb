#pragma once
// Every module of xgrad::nn: the Module base, Linear, Sequential and the initialisers.
#include "activation.hpp"
#include "init.hpp"
#include "linear.hpp"
#include "module.hpp"
#include "sequential.hpp"
