// Storage and the strided place of a tensor in it: how a view is read as a dense array.
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

Storage::~Storage() {
  if (external && deleter) deleter(external);
}

std::int64_t Storage::numel() const {
  if (external) return external_numel;
  return std::visit([](const auto& a) { return static_cast<std::int64_t>(a.size()); },
                    static_cast<const StorageVariant&>(*this));
}

strided::Layout layout_of(const TensorImpl& impl) {
  if (impl.strided) return impl.strided->layout;
  strided::Layout layout;
  std::visit([&](const auto& a) { layout.sizes.assign(a.shape().begin(), a.shape().end()); },
             static_cast<const StorageVariant&>(*impl.storage));
  layout.strides = strided::Layout::contiguous_strides(layout.sizes);
  return layout;
}

void check_whole(const TensorImpl& impl, const char* op) {
  if (!is_whole(impl))
    throw Error(concat(op, ": needs a tensor that owns its elements densely, got a view of shape ",
                       shape_str(impl.strided->layout.sizes), " (call contiguous().clone() first)"));
}

const StorageVariant& dense_values(const Tensor& tensor) {
  TensorImpl& impl = *tensor.impl();
  if (is_whole(impl)) return *impl.storage;
  TensorImpl::Strided& view = *impl.strided;
  Storage& storage = *impl.storage;
  std::lock_guard<std::mutex> lock(view.dense_mutex);
  const std::uint64_t generation = storage.generation.load(std::memory_order_acquire);
  // Memory written through a pointer (from_blob's, or one data_ptr handed out) may change at any
  // time, unseen: it is gathered on every read.
  const bool unseen_writes = storage.external || storage.escaped.load(std::memory_order_relaxed);
  if (view.dense && view.dense_generation == generation && !unseen_writes) return *view.dense;
  std::visit(
      [&](const auto& kind) {
        using T = typename std::decay_t<decltype(kind)>::value_type;
        Array<T>* dense = view.dense ? std::get_if<Array<T>>(&*view.dense) : nullptr;
        if (dense == nullptr || dense->size() != static_cast<std::size_t>(view.layout.numel())) {
          view.dense.emplace(std::in_place_type<Array<T>>, Array<T>::from_shape(view.layout.sizes));
          dense = &std::get<Array<T>>(*view.dense);
        }
        strided::gather(storage.elements<T>(), view.layout, dense->data());
      },
      static_cast<const StorageVariant&>(storage));
  view.dense_generation = generation;
  return *view.dense;
}

}  // namespace xgrad
