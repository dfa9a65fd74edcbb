#pragma once
// einsum: products and sums of tensors named by subscripts, as torch.einsum.
#include <string>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// The contraction the equation names, as torch::einsum(equation, {a, b}):
//   einsum("bhqd,bhkd->bhqk", {q, k})   attention scores, q k^T per batch and head
//   einsum("bhqk,bhkd->bhqd", {p, v})   attention-weighted values
//   einsum("ij,jk->ik", {a, b})         a matrix product
//   einsum("bi,bi->b", {x, y})          a dot product per row
// Subscripts are letters (case matters); "..." stands for the dims not named (aligned from the
// right and broadcast between operands). Without "->" the result has the ellipsis dims, then the
// letters that appear once, in alphabetical order with capitals first. A letter twice in one
// operand takes its diagonal; a letter missing from the result is summed over; a size of 1 broadcasts
// against the same letter's size in another operand. Operands are contracted left to right, each
// pair as one batched matrix product (permute, reshape, matmul), so gradients and double backward
// are those of the ops used. Operands share one dtype; float32 and float64 are differentiable.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& tensors);

}  // namespace xgrad
