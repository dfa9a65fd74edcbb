#pragma once
// make_data_loader, as torch::data::make_data_loader:
//
//   auto loader = make_data_loader(std::move(dataset), DataLoaderOptions().batch_size(64).workers(2));
//   auto ordered = make_data_loader<samplers::SequentialSampler>(std::move(dataset), 1000);
//   for (auto& batch : *loader) { ... }   // std::vector<Example<>>, or Example<> after .map(Stack<>())
//
// The sampler defaults to RandomSampler (a new permutation each epoch from the global generator,
// so manual_seed fixes the order). The loader is returned in a std::unique_ptr, as in libtorch.
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <xgrad/core/error.hpp>
#include <xgrad/data/dataloader/stateless.hpp>
#include <xgrad/data/dataloader_options.hpp>
#include <xgrad/data/samplers/random.hpp>

namespace xgrad::data {

template <typename Dataset, typename Sampler>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(Dataset dataset, Sampler sampler,
                                                                        DataLoaderOptions options) {
  return std::make_unique<StatelessDataLoader<Dataset, Sampler>>(std::move(dataset), std::move(sampler),
                                                                 std::move(options));
}

template <typename Sampler = samplers::RandomSampler, typename Dataset,
          std::enable_if_t<std::is_constructible_v<Sampler, std::size_t>, int> = 0>
std::unique_ptr<StatelessDataLoader<Dataset, Sampler>> make_data_loader(
    Dataset dataset, DataLoaderOptions options = DataLoaderOptions()) {
  const std::optional<std::size_t> size = dataset.size();
  check(size.has_value(), "make_data_loader: Expected the dataset to be sized in order to construct the Sampler");
  Sampler sampler(*size);
  return make_data_loader(std::move(dataset), std::move(sampler), std::move(options));
}

}  // namespace xgrad::data
