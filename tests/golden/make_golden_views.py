#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's views and indexing.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_views.py

It (re)writes views.json next to this script with three lists:

  "views":    one view or indexing op on a float64 input: the result's values,
              sizes, strides, storage offset, contiguity, whether it is a view,
              its grad_fn's name, and the input's gradient for a random upstream.
  "programs": short programs that write in place through views and bases, then
              run backward: every named tensor's values and gradients.
  "errors":   what PyTorch refuses, with its message.

The C++ tests (tests/ops/test_view.cpp) hold the same ops and programs under the
same names. Output is deterministic.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, tensor_to_json, write_json  # noqa: E402

F64 = torch.float64
I = torch.tensor

# name -> (input shape, op)
VIEWS = {
    "view": ((2, 3, 4), lambda x: x.view(6, 4)),
    "view_infer": ((2, 3, 4), lambda x: x.view(-1, 2)),
    "reshape_view": ((2, 3, 4), lambda x: x.reshape(6, 4)),
    "reshape_copy": ((2, 3, 4), lambda x: x.transpose(0, 1).reshape(12, 2)),
    "flatten": ((2, 3, 4), lambda x: x.flatten()),
    "flatten_from_1": ((2, 3, 4), lambda x: x.flatten(1)),
    "squeeze": ((2, 1, 4), lambda x: x.squeeze()),
    "squeeze_dim": ((2, 1, 4), lambda x: x.squeeze(1)),
    "unsqueeze": ((2, 3, 4), lambda x: x.unsqueeze(2)),
    "t": ((3, 4), lambda x: x.t()),
    "transpose": ((2, 3, 4), lambda x: x.transpose(0, 2)),
    "permute": ((2, 3, 4), lambda x: x.permute(2, 0, 1)),
    "expand": ((2, 1, 4), lambda x: x.expand(2, 3, 4)),
    "expand_new_dims": ((4,), lambda x: x.expand(2, 3, 4)),
    "select": ((2, 3, 4), lambda x: x.select(1, 1)),
    "select_negative": ((2, 3, 4), lambda x: x.select(-1, -2)),
    "operator_index": ((2, 3, 4), lambda x: x[1]),
    "narrow": ((2, 3, 4), lambda x: x.narrow(2, 1, 2)),
    "slice_step": ((2, 3, 4), lambda x: torch.ops.aten.slice(x, 1, None, None, 2)),
    "slice_negative": ((2, 3, 4), lambda x: torch.ops.aten.slice(x, 2, -3, -1, 1)),
    "chunk": ((2, 3, 4), lambda x: x.chunk(2, 2)[1]),
    "split": ((2, 3, 4), lambda x: x.split(2, 1)[1]),
    "split_with_sizes": ((2, 3, 4), lambda x: x.split([1, 3], 2)[1]),
    "unbind": ((2, 3, 4), lambda x: x.unbind(1)[2]),
    "diagonal": ((2, 3, 4), lambda x: x.diagonal(0, 1, 2)),
    "diagonal_above": ((2, 3, 4), lambda x: x.diagonal(1, 1, 2)),
    "diagonal_below": ((2, 3, 4), lambda x: x.diagonal(-1, 0, 2)),
    "as_strided": ((2, 3, 4), lambda x: x.as_strided((2, 2), (1, 2), 1)),
    "as_strided_overlap": ((3, 4), lambda x: x.as_strided((3, 3), (1, 1))),
    "unfold": ((2, 3, 4), lambda x: x.unfold(2, 2, 1)),
    "unfold_step": ((2, 5, 4), lambda x: x.unfold(1, 2, 2)),
    "chain": ((2, 3, 4), lambda x: x.transpose(0, 1)[1].narrow(1, 1, 2).t()),
    "index_slice_int": ((2, 3, 4), lambda x: x[:, 1]),
    "index_ellipsis_step": ((2, 3, 4), lambda x: x[..., 1::2]),
    "index_none": ((2, 3, 4), lambda x: x[None, 0]),
    "index_true": ((2, 3), lambda x: x[True]),
    "index_tensor": ((3, 4), lambda x: x[I([0, 2, 2])]),
    "index_tensor_negative": ((3, 4), lambda x: x[I([-1, 0])]),
    "index_tensors_separated": ((2, 3, 4), lambda x: x[I([0, 1]), :, I([3, 0])]),
    "index_tensors_adjacent": ((2, 3, 4), lambda x: x[:, I([[0, 2], [1, 1]]), I([1, 3])]),
    "index_mask": ((3, 4), lambda x: x[x > 0]),
    "index_mask_rows": ((3, 4), lambda x: x[I([True, False, True])]),
    "index_slice_then_tensor": ((3, 4), lambda x: x[1:, I([0, 3])]),
}


def view_case(name, shape, op):
    x = torch.randn(*shape, dtype=F64, requires_grad=True)
    y = op(x)
    upstream = torch.randn(y.shape, dtype=F64)
    y.backward(upstream)
    return {
        "name": name,
        "input": tensor_to_json(x),
        "output": tensor_to_json(y),
        "strides": list(y.stride()),
        "storage_offset": y.storage_offset(),
        "is_contiguous": y.is_contiguous(),
        "is_view": y._is_view(),
        "grad_fn": y.grad_fn.name(),
        "upstream": tensor_to_json(upstream),
        "grad": tensor_to_json(x.grad),
    }


# Each program takes leaves (float64, requires grad) and returns named results;
# "loss" is what backward starts from.
def narrow_mul(x):
    y = x * 1
    v = y.narrow(0, 0, 2)
    v.mul_(3)
    return {"y": y, "loss": (y * y).sum()}, {"y_grad_fn": y.grad_fn.name(), "v_grad_fn": v.grad_fn.name()}


def select_add_tensor(x, w):
    y = x * 1
    y[1].add_(w[0])
    return {"y": y, "loss": y.sin().sum()}, {}


def base_then_view(x):
    y = x * 2
    v = y.select(1, 0)
    y.mul_(3)
    return {"v": v, "loss": (v * v).sum()}, {"v_grad_fn": v.grad_fn.name()}


def copy_into_zeros(w):
    y = torch.zeros(4, 3, dtype=F64)
    y.narrow(1, 1, 2).copy_(w)
    c = torch.arange(12, dtype=F64).view(4, 3)
    return {"y": y, "loss": (y * c).sum()}, {"y_grad_fn": y.grad_fn.name()}


def view_of_view_inplace(x):
    y = x.sin()
    y.t()[0].mul_(2)
    return {"y": y, "loss": y.sum()}, {}


def fill_row(x):
    y = x * 1
    y[2].fill_(5)
    return {"y": y, "loss": (y * y).sum()}, {}


def zero_through_unsqueeze(x):
    y = x * 1
    y.unsqueeze(0)[0, 1].zero_()
    return {"y": y, "loss": (y * y).sum()}, {}


def index_put_rows(x, w):
    y = x * 1
    y.index_put_((I([0, 2]),), w)
    return {"y": y, "loss": (y ** 2).sum()}, {"y_grad_fn": y.grad_fn.name()}


def index_put_accumulate(x, w):
    y = x * 1
    y.index_put_((I([1, 1]),), w, accumulate=True)
    return {"y": y, "loss": (y ** 2).sum()}, {}


def index_put_mask_scalar(x):
    y = x * 1
    y[y > 0] = 0.5
    return {"y": y, "loss": (y ** 2).sum()}, {}


def index_put_slice_column(x, w):
    y = x * 1
    y[:, I([2, 0])] = w[:, :2]
    return {"y": y, "loss": (y ** 3).sum()}, {}


def index_add(x, w):
    y = x * 1
    y.index_add_(0, I([2, 0]), w, alpha=2)
    return {"y": y, "loss": (y ** 2).sum()}, {}


def index_copy(x, w):
    y = x * 1
    y.index_copy_(0, I([2, 0]), w)
    return {"y": y, "loss": (y ** 2).sum()}, {}


def index_fill(x):
    y = x * 1
    y.index_fill_(1, I([1]), -1.5)
    return {"y": y, "loss": (y ** 2).sum()}, {}


def scatter(x, w):
    y = x * 1
    y.scatter_(1, I([[2, 0], [1, 0], [0, 2], [1, 2]]), w)
    return {"y": y, "loss": (y ** 2).sum()}, {}


def scatter_add(x, w):
    y = x * 1
    y.scatter_add_(1, I([[2, 0], [1, 1], [0, 2], [1, 0]]), w)
    return {"y": y, "loss": (y ** 2).sum()}, {}


def masked_scatter(x, w):
    y = x * 1
    y.masked_scatter_(I([[True, False, True]]).expand(4, 3), w)
    return {"y": y, "loss": (y ** 2).sum()}, {}


# name -> (leaf shapes, program)
PROGRAMS = {
    "narrow_mul": ([(4, 3)], narrow_mul),
    "select_add_tensor": ([(4, 3), (2, 3)], select_add_tensor),
    "base_then_view": ([(4, 3)], base_then_view),
    "copy_into_zeros": ([(4, 2)], copy_into_zeros),
    "view_of_view_inplace": ([(4, 3)], view_of_view_inplace),
    "fill_row": ([(4, 3)], fill_row),
    "zero_through_unsqueeze": ([(4, 3)], zero_through_unsqueeze),
    "index_put_rows": ([(4, 3), (2, 3)], index_put_rows),
    "index_put_accumulate": ([(4, 3), (2, 3)], index_put_accumulate),
    "index_put_mask_scalar": ([(4, 3)], index_put_mask_scalar),
    "index_put_slice_column": ([(4, 3), (4, 3)], index_put_slice_column),
    "index_add": ([(4, 3), (2, 3)], index_add),
    "index_copy": ([(4, 3), (2, 3)], index_copy),
    "index_fill": ([(4, 3)], index_fill),
    "scatter": ([(4, 3), (4, 2)], scatter),
    "scatter_add": ([(4, 3), (4, 2)], scatter_add),
    "masked_scatter": ([(4, 3), (10,)], masked_scatter),
}


def program_case(name, shapes, program):
    leaves = [torch.randn(*s, dtype=F64, requires_grad=True) for s in shapes]
    results, names = program(*leaves)
    results["loss"].backward()
    return {
        "name": name,
        "leaves": [tensor_to_json(leaf) for leaf in leaves],
        "results": {k: tensor_to_json(v) for k, v in results.items()},
        "grads": [tensor_to_json(leaf.grad) for leaf in leaves],
        "names": names,
    }


def message_of(action):
    try:
        action()
    except (RuntimeError, IndexError) as e:
        return str(e).split("\n")[0]
    raise AssertionError(f"expected an error from {action}")


def errors():
    x = torch.zeros(2, 3, 4)
    leaf = torch.zeros(4, requires_grad=True)
    y = leaf * 1

    def saved_view_modified():
        a = torch.randn(3, requires_grad=True)
        b = a * 1
        r = b[0:2].sin()
        b.mul_(2)
        r.sum().backward()

    cases = {
        "view_incompatible": lambda: x.transpose(0, 1).view(24),
        "inplace_view_of_leaf": lambda: leaf.narrow(0, 0, 2).mul_(2),
        "inplace_unbind": lambda: y.unbind(0)[0].mul_(2),
        "inplace_split": lambda: y.split(2)[0].mul_(2),
        "inplace_chunk": lambda: y.chunk(2)[0].mul_(2),
        "inplace_expanded": lambda: torch.zeros(3, 1).expand(3, 4).add_(1),
        "saved_view_modified": saved_view_modified,
        "as_strided_outside": lambda: x.as_strided((100,), (1,)),
        "narrow_past_end": lambda: x.narrow(0, 1, 5),
        "select_out_of_range": lambda: x.select(1, 7),
        "index_out_of_range": lambda: x[5],
        "index_tensor_out_of_range": lambda: x[I([0, 5])],
        "index_float_tensor": lambda: x[I([0.5])],
        "mask_wrong_shape": lambda: x[I([True, False, True])],
        "too_many_indices": lambda: x[0, 0, 0, 0],
        "index_put_shape_mismatch": lambda: x.index_put_((I([0, 1]),), torch.zeros(3)),
    }
    out = []
    for k, v in cases.items():
        try:
            out.append({"name": k, "message": message_of(v)})
        except AssertionError:
            raise AssertionError(f"{k} did not fail")
    return out


def main():
    torch.manual_seed(SEED)
    fixture = {
        "views": [view_case(n, s, op) for n, (s, op) in VIEWS.items()],
        "programs": [program_case(n, s, p) for n, (s, p) in PROGRAMS.items()],
        "errors": errors(),
    }
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "views.json"), fixture)


if __name__ == "__main__":
    main()
