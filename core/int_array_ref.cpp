#include <xgrad/core/int_array_ref.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>

namespace xgrad {

std::int64_t IntArrayRef::at(std::size_t i) const {
  if (i >= sizes_.size()) throw Error(concat("IntArrayRef::at: index ", i, " out of range for ", *this));
  return sizes_[i];
}

IntArrayRef IntArrayRef::slice(std::size_t start) const {
  if (start > sizes_.size()) throw Error(concat("IntArrayRef::slice: start ", start, " out of range for ", *this));
  return IntArrayRef(std::vector<std::int64_t>(sizes_.begin() + static_cast<std::ptrdiff_t>(start), sizes_.end()));
}

IntArrayRef IntArrayRef::slice(std::size_t start, std::size_t length) const {
  if (start + length > sizes_.size())
    throw Error(concat("IntArrayRef::slice: start ", start, " and length ", length, " out of range for ", *this));
  const auto first = sizes_.begin() + static_cast<std::ptrdiff_t>(start);
  return IntArrayRef(std::vector<std::int64_t>(first, first + static_cast<std::ptrdiff_t>(length)));
}

std::ostream& operator<<(std::ostream& out, const IntArrayRef& sizes) { return out << shape_str(sizes.vec()); }

}  // namespace xgrad
