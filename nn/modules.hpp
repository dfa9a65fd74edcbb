#pragma once
// Every module of xgrad::nn: the Module base and its holders, Linear, Identity, Flatten, the
// containers (Sequential, ModuleList, Functional), the activations, the losses, the normalisation,
// recurrent, attention and transformer layers and the initialisers.
#include <xgrad/nn/activation.hpp>
#include <xgrad/nn/any_module.hpp>
#include <xgrad/nn/attention.hpp>
#include <xgrad/nn/batchnorm.hpp>
#include <xgrad/nn/functional_module.hpp>
#include <xgrad/nn/clip_grad.hpp>
#include <xgrad/nn/dropout.hpp>
#include <xgrad/nn/embedding.hpp>
#include <xgrad/nn/conv.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/nn/linear.hpp>
#include <xgrad/nn/loss.hpp>
#include <xgrad/nn/loss_regression.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/module_list.hpp>
#include <xgrad/nn/normalization.hpp>
#include <xgrad/nn/ordered_dict.hpp>
#include <xgrad/nn/packed_sequence.hpp>
#include <xgrad/nn/pooling.hpp>
#include <xgrad/nn/rnn.hpp>
#include <xgrad/nn/rnn_options.hpp>
#include <xgrad/nn/sequential.hpp>
#include <xgrad/nn/transformer.hpp>
