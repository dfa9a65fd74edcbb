#pragma once
// xgrad::data, the data layer of libtorch's torch::data: datasets, transforms, samplers and the
// loader that batches them.
//
//   namespace data = xgrad::data;
//   auto train = data::datasets::MNIST(root, data::datasets::MNIST::Mode::kTrain)
//                    .map(data::transforms::Normalize<>(0.2860, 0.3530))
//                    .map(data::transforms::Stack<>());
//   auto loader = data::make_data_loader(std::move(train), data::DataLoaderOptions().batch_size(64));
//   for (auto& batch : *loader) { ... batch.data (64, 1, 28, 28), batch.target (64) ... }
#include "array_ref.hpp"
#include "dataloader.hpp"
#include "dataloader/stateless.hpp"
#include "dataloader_options.hpp"
#include "datasets/base.hpp"
#include "datasets/map.hpp"
#include "datasets/mnist.hpp"
#include "datasets/tensor.hpp"
#include "example.hpp"
#include "iterator.hpp"
#include "samplers/base.hpp"
#include "samplers/random.hpp"
#include "samplers/sequential.hpp"
#include "transforms/base.hpp"
#include "transforms/collate.hpp"
#include "transforms/lambda.hpp"
#include "transforms/stack.hpp"
#include "transforms/tensor.hpp"
