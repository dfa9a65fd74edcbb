#pragma once
// Every optimiser of xgrad::optim and the learning-rate schedulers.
#include "adagrad.hpp"
#include "adam.hpp"
#include "adamw.hpp"
#include "lr_scheduler.hpp"
#include "optimizer.hpp"
#include "rmsprop.hpp"
#include "sgd.hpp"
