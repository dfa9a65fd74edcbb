#pragma once
// Every optimiser of xgrad::optim and the learning-rate schedulers.
#include <xgrad/optim/adagrad.hpp>
#include <xgrad/optim/adam.hpp>
#include <xgrad/optim/adamw.hpp>
#include <xgrad/optim/lr_scheduler.hpp>
#include <xgrad/optim/one_cycle_lr.hpp>
#include <xgrad/optim/optimizer.hpp>
#include <xgrad/optim/reduce_on_plateau_scheduler.hpp>
#include <xgrad/optim/rmsprop.hpp>
#include <xgrad/optim/sgd.hpp>
