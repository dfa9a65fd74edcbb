#include "nn/serialize.hpp"

#include <xtensor/xnpy.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/tensor_impl.hpp"

namespace xgrad::nn {

namespace fs = std::filesystem;

namespace {

fs::path file_for(const std::string& directory, const std::string& parameter_name) {
  return fs::path(directory) / (parameter_name + ".npy");
}

// The .npy type string of a dtype ("<f4", "<f8"), as NumPy writes it.
std::string typestring_of(Dtype dtype) {
  return visit_floating(dtype, "load", [](auto tag) { return xt::detail::build_typestring<decltype(tag)>(); });
}

std::string dtype_of_typestring(const std::string& typestring) {
  if (typestring == typestring_of(kFloat32)) return "float32";
  if (typestring == typestring_of(kFloat64)) return "float64";
  return "'" + typestring + "'";
}

// Reads one .npy file completely (header and data) or throws Error naming the file. xtensor's
// load_npy<T> needs the element type up front; its header reader tells us shape and dtype first,
// so a mismatch can be reported in the parameter's terms.
xt::detail::npy_file read_npy(const fs::path& path, const std::string& parameter_name) {
  std::ifstream stream(path, std::ios::binary);
  check(stream.good(), "load: no file ", path.string(), " for parameter \"", parameter_name, "\"");
  try {
    xt::detail::npy_file file = xt::detail::load_npy_file(stream);
    check(!stream.fail(), "load: ", path.string(), " is shorter than its header says");
    return file;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(concat("load: ", path.string(), " is not a readable .npy file (", e.what(), ")"));
  }
}

// Every .npy file in the directory must belong to a parameter: a stray one means the architecture
// differs from the one that was saved.
void check_no_extra_files(const std::string& directory, const std::set<std::string>& expected) {
  for (const auto& entry : fs::directory_iterator(directory)) {
    if (entry.path().extension() != ".npy") continue;
    const std::string name = entry.path().stem().string();
    check(expected.count(name) == 1, "load: ", entry.path().string(), " matches no parameter of the module (no \"",
          name, "\" in it)");
  }
}

void check_matches(const xt::detail::npy_file& file, const Tensor& parameter, const std::string& name,
                   const fs::path& path) {
  const Shape file_shape(file.m_shape.begin(), file.m_shape.end());
  check(file_shape == parameter.shape(), "load: parameter \"", name, "\" has shape ", shape_str(parameter.shape()),
        " but ", path.string(), " holds shape ", shape_str(file_shape));
  check(file.m_typestring == typestring_of(parameter.dtype()), "load: parameter \"", name, "\" has dtype ",
        dtype_name(parameter.dtype()), " but ", path.string(), " holds ", dtype_of_typestring(file.m_typestring));
  check(!file.m_fortran_order || parameter.dim() < 2, "load: ", path.string(),
        " is in Fortran (column-major) order; save it from NumPy with np.ascontiguousarray");
}

}  // namespace

void save(const Module& module, const std::string& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  check(!error && fs::is_directory(directory), "save: cannot create directory ", directory, " (", error.message(),
        ")");
  // Named references rather than a structured binding: C++17 does not let the lambda below capture
  // a binding (GCC accepts it anyway, clang 14 does not).
  for (const auto& entry : module.named_parameters()) {
    const std::string& name = entry.first;
    const Tensor& parameter = entry.second;
    const fs::path path = file_for(directory, name);
    visit_floating(parameter.dtype(), "save", [&](auto tag) {
      using T = decltype(tag);
      try {
        xt::dump_npy(path.string(), array<T>(parameter));
      } catch (const std::exception& e) {
        throw Error(concat("save: cannot write ", path.string(), " (", e.what(), ")"));
      }
    });
  }
}

void load(Module& module, const std::string& directory) {
  check(fs::is_directory(directory), "load: ", directory, " is not a directory");
  const auto named = module.named_parameters();
  std::set<std::string> names;
  for (const auto& entry : named) names.insert(entry.first);
  check_no_extra_files(directory, names);

  // Read and check everything first, so a mismatch leaves the module untouched.
  std::vector<xt::detail::npy_file> files;
  files.reserve(named.size());
  for (const auto& [name, parameter] : named) {
    const fs::path path = file_for(directory, name);
    files.push_back(read_npy(path, name));
    check_matches(files.back(), parameter, name, path);
  }
  for (std::size_t i = 0; i < named.size(); ++i) {
    Tensor parameter = named[i].second;
    visit_floating(parameter.dtype(), "load", [&](auto tag) {
      using T = decltype(tag);
      const auto* values = reinterpret_cast<const T*>(files[i].ptr());
      std::copy(values, values + parameter.numel(), parameter.mutable_data<T>());
    });
  }
}

}  // namespace xgrad::nn
