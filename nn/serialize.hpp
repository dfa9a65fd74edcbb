#pragma once
// Saving and loading a module's parameters as NumPy .npy files, one per parameter:
//
//   nn::save(net, "weights");   // weights/0.weight.npy, weights/0.bias.npy, ...
//   nn::load(net, "weights");   // same architecture: values copied back in place
//
// `net` is a holder (nn::Sequential, a user's XGRAD_MODULE) or a module.
//
// The files are plain .npy (format version 1.0, little-endian, C order), so NumPy reads them:
//   w = {os.path.basename(f)[:-4]: np.load(f) for f in glob.glob('weights/*.npy')}
#include <string>

#include "module.hpp"
#include "module_holder.hpp"

namespace xgrad::nn {

// Creates `directory` if needed and writes <name>.npy for every named parameter (overwriting).
void save(const Module& module, const std::string& directory);

// Reads <name>.npy for every named parameter into the parameter's existing storage (handles held by
// an optimiser see the new values). Throws Error, before changing anything, when a file is missing,
// a .npy file in the directory matches no parameter, or a shape or dtype differs (the message names
// the parameter and both shapes or dtypes).
void load(Module& module, const std::string& directory);

// The same through a holder (a handle: loading through a const holder changes the module it holds).
template <class M>
void save(const ModuleHolder<M>& module, const std::string& directory) {
  save(static_cast<const Module&>(*module), directory);
}
template <class M>
void load(const ModuleHolder<M>& module, const std::string& directory) {
  load(static_cast<Module&>(*module.ptr()), directory);
}

}  // namespace xgrad::nn
