#pragma once
// Saving and loading a module's parameters as NumPy .npy files, one per parameter:
//
//   nn::save(net, "weights");   // weights/0.weight.npy, weights/0.bias.npy, ...
//   nn::load(net, "weights");   // same architecture: values copied back in place
//
// The files are plain .npy (format version 1.0, little-endian, C order), so NumPy reads them:
//   w = {os.path.basename(f)[:-4]: np.load(f) for f in glob.glob('weights/*.npy')}
#include <string>

#include "module.hpp"

namespace xgrad::nn {

// Creates `directory` if needed and writes <name>.npy for every named parameter (overwriting).
void save(const Module& module, const std::string& directory);

// Reads <name>.npy for every named parameter into the parameter's existing storage (handles held by
// an optimiser see the new values). Throws Error, before changing anything, when a file is missing,
// a .npy file in the directory matches no parameter, or a shape or dtype differs (the message names
// the parameter and both shapes or dtypes).
void load(Module& module, const std::string& directory);

}  // namespace xgrad::nn
