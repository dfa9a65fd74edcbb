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
#include <xgrad/data/array_ref.hpp>
#include <xgrad/data/dataloader.hpp>
#include <xgrad/data/dataloader/stateless.hpp>
#include <xgrad/data/dataloader_options.hpp>
#include <xgrad/data/datasets/base.hpp>
#include <xgrad/data/datasets/map.hpp>
#include <xgrad/data/datasets/mnist.hpp>
#include <xgrad/data/datasets/tensor.hpp>
#include <xgrad/data/datasets/token_windows.hpp>
#include <xgrad/data/example.hpp>
#include <xgrad/data/iterator.hpp>
#include <xgrad/data/samplers/base.hpp>
#include <xgrad/data/samplers/random.hpp>
#include <xgrad/data/samplers/sequential.hpp>
#include <xgrad/data/transforms/base.hpp>
#include <xgrad/data/transforms/collate.hpp>
#include <xgrad/data/transforms/lambda.hpp>
#include <xgrad/data/transforms/stack.hpp>
#include <xgrad/data/transforms/tensor.hpp>
