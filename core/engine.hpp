#pragma once
#include <memory>
#include <vector>

#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

class GraphTask;

class Engine {
 public:
  // Where a backward pass starts: a node and the gradient of its output (same shape and dtype).
  struct Root {
    std::shared_ptr<Node> node;
    Tensor grad;
  };
  struct Options {
    // Keep what nodes saved, so that backward can run through the graph again.
    bool keep_graph = false;
    // Record the backward pass itself (grad mode on while nodes run), for higher-order gradients.
    bool create_graph = false;
    // Whether AccumulateGrad nodes add into their leaves' grad() (Tensor::backward) or are skipped
    // (autograd::grad, which returns gradients instead).
    bool accumulate_grad = true;
  };

  // Runs the backward pass from `roots` and returns, for each node of `capture`, the total gradient
  // that reached it after its tensor's hooks (undefined when none did).
  //
  // Each call keeps its own state in a GraphTask (core/engine.cpp), so calls may nest (a backward
  // inside a hook) and threads may run backward on separate graphs at once.
  // 1. Discover every Node reachable from the roots with an explicit stack (no recursion, so a
  //    100,000-op chain is fine) and count, for each Node, how many edges point at it.
  // 2. Kahn's algorithm: a Node runs once all its consumers have sent their gradient, which are
  //    summed in its buffer first (a tensor used twice gets the sum of both contributions). Hooks
  //    registered on its output see (and may replace) that sum before the node runs.
  // 3. Unless keep_graph, each Node frees what it saved once it has run; the edges stay.
  static std::vector<Tensor> execute(const std::vector<Root>& roots, const Options& options,
                                     const std::vector<const Node*>& capture = {});
  // The same for `count` roots in an array (Tensor::backward's one root, without a vector for it).
  static std::vector<Tensor> execute(const Root* roots, std::size_t count, const Options& options,
                                     const std::vector<const Node*>& capture = {});

 private:
  // Step 2 and 3 of execute: runs nodes until none is ready, filling `captured`.
  static void run_ready_nodes(GraphTask& task, const Options& options, const std::vector<const Node*>& capture,
                              std::vector<Tensor>& captured);
};

}  // namespace xgrad
