#pragma once
// A stack of residual blocks, the model whose to_html page the html tests read: block i's
// parameters are named "blocks.<i>.fc1.weight", ..., so the page groups each block's nodes, and
// twenty blocks make a graph of 221 nodes, above the size from which repeated modules open collapsed.
#include <xgrad/xgrad.hpp>

namespace xgrad::testing {

// x + fc2(tanh(fc1(x))) * scale
struct BlockImpl : nn::Module {
  BlockImpl() : fc1(register_module("fc1", nn::Linear(3, 3))), fc2(register_module("fc2", nn::Linear(3, 3))) {
    scale = register_parameter("scale", ones({3}));
  }
  // The scale is read through a view, as a module's own parameters often are.
  Tensor forward(const Tensor& x) { return x + fc2(tanh(fc1(x))) * scale.view({1, 3}); }
  nn::Linear fc1, fc2;
  Tensor scale;
};
XGRAD_MODULE(Block);

struct BlocksImpl : nn::Module {
  explicit BlocksImpl(int depth) {
    for (int i = 0; i < depth; ++i) blocks->push_back(Block());
    register_module("blocks", blocks);
  }
  Tensor forward(Tensor x) {
    for (const auto& block : *blocks) x = block->as<Block>()->forward(x);
    return x;
  }
  nn::ModuleList blocks;
};
XGRAD_MODULE(Blocks);

}  // namespace xgrad::testing
