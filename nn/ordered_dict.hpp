#pragma once
// OrderedDict: a dictionary that remembers insertion order, as torch::OrderedDict. Module uses it
// for its parameters, buffers and children, and returns it from named_parameters():
//
//   for (const auto& item : net->named_parameters())
//     std::cout << item.key() << ' ' << item.value().sizes() << '\n';   // "0.weight [64, 2]", ...
//   for (const auto& [name, parameter] : net->named_parameters()) ...   // the same, unpacked
//   if (Tensor* bias = net->named_parameters().find("0.bias")) ...      // nullptr when absent
//
// Items live in a vector in insertion order and an index maps each key to its position, so lookup
// is a hash and iteration is a walk along the vector. Inserting may move the items: keep no
// reference or iterator across an insert (as with std::vector).
#include <cstddef>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <xgrad/core/error.hpp>

namespace xgrad {

template <class Key, class Value>
class OrderedDict {
 public:
  // One entry. key() and value() as in libtorch; the public first/second also let a range-for
  // unpack it (`auto& [name, tensor] : dict`). Changing `first` through a reference would desync
  // the index: treat it as read-only.
  class Item {
   public:
    Item(Key key, Value value) : first(std::move(key)), second(std::move(value)) {}
    const Key& key() const noexcept { return first; }
    Value& value() noexcept { return second; }
    const Value& value() const noexcept { return second; }
    Value& operator*() noexcept { return second; }
    const Value& operator*() const noexcept { return second; }
    Value* operator->() noexcept { return &second; }
    const Value* operator->() const noexcept { return &second; }
    std::pair<Key, Value> pair() const { return {first, second}; }

    Key first;
    Value second;
  };

  using Iterator = typename std::vector<Item>::iterator;
  using ConstIterator = typename std::vector<Item>::const_iterator;

  // key_description names a key in error messages: "Parameter 'fc.weight' is not defined".
  explicit OrderedDict(std::string key_description = "Key") : key_description_(std::move(key_description)) {}
  OrderedDict(std::initializer_list<Item> items) {
    for (const Item& item : items) insert(item.key(), item.value());
  }

  const std::string& key_description() const noexcept { return key_description_; }

  // ---- element access (checked) ----
  Item& front() { return checked_end(items_.empty() ? nullptr : &items_.front(), "front"); }
  const Item& front() const { return checked_end(items_.empty() ? nullptr : &items_.front(), "front"); }
  Item& back() { return checked_end(items_.empty() ? nullptr : &items_.back(), "back"); }
  const Item& back() const { return checked_end(items_.empty() ? nullptr : &items_.back(), "back"); }

  Item& operator[](std::size_t index) { return items_[checked_index(index)]; }
  const Item& operator[](std::size_t index) const { return items_[checked_index(index)]; }
  Value& operator[](const Key& key) { return *checked_find(find(key), key); }
  const Value& operator[](const Key& key) const { return *checked_find(find(key), key); }

  // ---- lookup ----
  Value* find(const Key& key) noexcept {
    const auto found = index_.find(key);
    return found == index_.end() ? nullptr : &items_[found->second].second;
  }
  const Value* find(const Key& key) const noexcept {
    const auto found = index_.find(key);
    return found == index_.end() ? nullptr : &items_[found->second].second;
  }
  bool contains(const Key& key) const noexcept { return index_.count(key) != 0; }

  // ---- iteration, in insertion order ----
  Iterator begin() { return items_.begin(); }
  ConstIterator begin() const { return items_.begin(); }
  Iterator end() { return items_.end(); }
  ConstIterator end() const { return items_.end(); }

  std::size_t size() const noexcept { return items_.size(); }
  bool is_empty() const noexcept { return items_.empty(); }
  void reserve(std::size_t capacity) {
    index_.reserve(capacity);
    items_.reserve(capacity);
  }

  // ---- modifiers ----
  // Appends a new key; a key already present is an Error and changes nothing.
  template <class K, class V>
  Value& insert(K&& key, V&& value) {
    if (index_.count(key) != 0) throw Error(concat(key_description_, " '", key, "' already defined"));
    items_.emplace_back(Key(key), Value(std::forward<V>(value)));
    index_.emplace(std::forward<K>(key), items_.size() - 1);
    return items_.back().second;
  }
  Value& insert(Key key, Value&& value) { return insert<Key, Value>(std::move(key), std::move(value)); }
  // Inserts every item of `other`; a key present in both is an Error (the items before it stay).
  void update(const OrderedDict& other) {
    reserve(size() + other.size());
    for (const Item& item : other) insert(item.key(), item.value());
  }
  void update(OrderedDict&& other) {
    reserve(size() + other.size());
    for (Item& item : other) insert(std::move(item.first), std::move(item.second));
  }
  void erase(const Key& key) {
    const auto found = index_.find(key);
    if (found == index_.end()) throw Error(concat(key_description_, " '", key, "' is not defined"));
    const std::size_t position = found->second;
    index_.erase(found);
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(position));
    for (auto& entry : index_)
      if (entry.second > position) --entry.second;
  }
  void clear() {
    index_.clear();
    items_.clear();
  }

  // ---- copies out ----
  const std::vector<Item>& items() const noexcept { return items_; }
  std::vector<Key> keys() const {
    std::vector<Key> result;
    result.reserve(size());
    for (const Item& item : items_) result.push_back(item.first);
    return result;
  }
  std::vector<Value> values() const {
    std::vector<Value> result;
    result.reserve(size());
    for (const Item& item : items_) result.push_back(item.second);
    return result;
  }
  std::vector<std::pair<Key, Value>> pairs() const {
    std::vector<std::pair<Key, Value>> result;
    result.reserve(size());
    for (const Item& item : items_) result.emplace_back(item.first, item.second);
    return result;
  }

 private:
  std::size_t checked_index(std::size_t index) const {
    if (index >= items_.size())
      throw Error(concat("OrderedDict: index ", index, " is out of bounds for ", items_.size(), " items"));
    return index;
  }
  template <class V>
  V* checked_find(V* value, const Key& key) const {
    if (value == nullptr) throw Error(concat(key_description_, " '", key, "' is not defined"));
    return value;
  }
  template <class I>
  I& checked_end(I* item, const char* which) const {
    if (item == nullptr) throw Error(concat("Called ", which, "() on an empty OrderedDict"));
    return *item;
  }

  std::unordered_map<Key, std::size_t> index_;
  std::vector<Item> items_;
  std::string key_description_ = "Key";
};

}  // namespace xgrad
