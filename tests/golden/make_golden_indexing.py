#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's indexing and shape ops.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_indexing.py

It (re)writes indexing.json next to this script: select, slice, narrow,
index_select, masked_fill, cat, stack, where, permute and expand, each in
float32 and float64, with the forward value and the gradient of every
floating input for a random upstream. Output is deterministic. See README.md
for the format.

Every case is one call

    output = CALLS[fn](inputs, **options)
    output.backward(upstream)

and each `add(...)` line below shows the inputs and options used.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, tensor_to_json, upstream_like, write_json  # noqa: E402

F64 = torch.float64
DTYPES = (torch.float32, torch.float64)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}

# inputs is the list of floating tensors (each gets a gradient); everything
# else (dims, indices, masks) is an option.
CALLS = {
    "select": lambda inputs, dim, index: torch.select(inputs[0], dim, index),
    # aten::slice is what x[start:end:step] along `dim` calls, None bounds included.
    "slice": lambda inputs, dim, start, end, step: torch.ops.aten.slice(inputs[0], dim, start, end, step),
    "narrow": lambda inputs, dim, start, length: torch.narrow(inputs[0], dim, start, length),
    "index_select": lambda inputs, dim, index: torch.index_select(inputs[0], dim, index),
    # A value given as a number fills with that number; without one, inputs[1]
    # is the 0-dim value tensor (which gets a gradient).
    "masked_fill": lambda inputs, mask, value=None: inputs[0].masked_fill(
        mask, inputs[1] if value is None else value),
    "cat": lambda inputs, dim: torch.cat(inputs, dim),
    "stack": lambda inputs, dim: torch.stack(inputs, dim),
    "where": lambda inputs, condition: torch.where(condition, inputs[0], inputs[1]),
    "permute": lambda inputs, dims: inputs[0].permute(dims),
    "expand": lambda inputs, sizes: inputs[0].expand(sizes),
}


def randn(*shape):
    return torch.randn(*shape, dtype=F64)


def bools(*shape):
    return torch.rand(*shape, dtype=F64) < 0.5


def option_to_json(value):
    """Masks and conditions are written as int64 0/1: the tensor format has no bool."""
    if torch.is_tensor(value):
        return tensor_to_json(value.to(torch.int64) if value.dtype == torch.bool else value)
    return value


def make_case(fn, variant, dtype, inputs, options):
    base_name = f"{fn}/{variant}"
    leaves = [x.to(dtype).clone().requires_grad_(True) for x in inputs]
    out = CALLS[fn](leaves, **options)
    up = upstream_like(out, base_name)
    out.backward(up)
    return {
        "name": f"{base_name}/{DTYPE_NAMES[dtype]}",
        "fn": fn,
        "dtype": DTYPE_NAMES[dtype],
        "grad_fn": out.grad_fn.name(),
        "options": {k: option_to_json(v) for k, v in options.items()},
        "inputs": [tensor_to_json(x.detach()) for x in leaves],
        "upstream": tensor_to_json(up),
        "output": tensor_to_json(out),
        "grads": [tensor_to_json(x.grad) for x in leaves],
    }


class CaseList:
    def __init__(self):
        self.cases = []
        self.names = set()

    def add(self, fn, variant, inputs, **options):
        """Add the float32 and the float64 version of one case."""
        for dtype in DTYPES:
            case = make_case(fn, variant, dtype, inputs, options)
            assert case["name"] not in self.names, f"duplicate case {case['name']}"
            self.names.add(case["name"])
            self.cases.append(case)


def indexing_cases():
    torch.manual_seed(SEED)
    cl = CaseList()
    long = lambda values: torch.tensor(values, dtype=torch.int64)  # noqa: E731

    x345, x5, x65, x273 = randn(3, 4, 5), randn(5), randn(6, 5), randn(2, 7, 3)
    cl.add("select", "3x4x5/dim=1/index=2", [x345], dim=1, index=2)
    cl.add("select", "3x4x5/dim=-1/index=-1", [x345], dim=-1, index=-1)
    cl.add("select", "3x4x5/dim=0/index=-3", [x345], dim=0, index=-3)
    cl.add("select", "5/dim=0/index=3", [x5], dim=0, index=3)

    cl.add("slice", "6x5/dim=0/1:5:2", [x65], dim=0, start=1, end=5, step=2)
    cl.add("slice", "6x5/dim=1/-4::3", [x65], dim=1, start=-4, end=None, step=3)
    cl.add("slice", "6x5/dim=0/:100", [x65], dim=0, start=None, end=100, step=1)
    cl.add("slice", "6x5/dim=-1/-100:2", [x65], dim=-1, start=-100, end=2, step=1)
    cl.add("slice", "6x5/dim=0/4:2_empty", [x65], dim=0, start=4, end=2, step=1)
    cl.add("slice", "2x7x3/dim=1/::3", [x273], dim=1, start=None, end=None, step=3)
    cl.add("slice", "2x7x3/dim=-2/2:-1:2", [x273], dim=-2, start=2, end=-1, step=2)

    x46 = randn(4, 6)
    x253 = randn(2, 5, 3)
    cl.add("narrow", "4x6/dim=1/start=-4/length=3", [x46], dim=1, start=-4, length=3)
    cl.add("narrow", "2x5x3/dim=0/start=1/length=1", [x253], dim=0, start=1, length=1)
    cl.add("narrow", "2x5x3/dim=-2/start=2/length=3", [x253], dim=-2, start=2, length=3)

    x53, x243 = randn(5, 3), randn(2, 4, 3)
    cl.add("index_select", "5x3/dim=0/repeated", [x53], dim=0, index=long([4, 0, 4, 2]))
    cl.add("index_select", "2x4x3/dim=-2/all_the_same", [x243], dim=-2, index=long([3, 3, 3]))
    cl.add("index_select", "2x4x3/dim=2/0-dim_index", [x243], dim=2, index=long(1))
    cl.add("index_select", "2x4x3/dim=1/permuted", [x243], dim=1, index=long([2, 0, 3, 1]))

    x34, x234, x31 = randn(3, 4), randn(2, 3, 4), randn(3, 1)
    cl.add("masked_fill", "3x4/mask_3x4/value=0.5", [x34], mask=bools(3, 4), value=0.5)
    cl.add("masked_fill", "2x3x4/mask_4/value=-1e9", [x234], mask=bools(4), value=-1e9)
    cl.add("masked_fill", "3x1/mask_2x3x4_broadcasts_x", [x31], mask=bools(2, 3, 4), value=2.0)
    cl.add("masked_fill", "3x4/mask_3x1/value_tensor", [x34, randn(())], mask=bools(3, 1))
    cl.add("masked_fill", "2x3x4/mask_2x3x4/value_tensor", [x234, randn(())], mask=bools(2, 3, 4))

    cl.add("cat", "2x3+4x3/dim=0", [randn(2, 3), randn(4, 3)], dim=0)
    cl.add("cat", "2x3x1+2x3x4+2x3x2/dim=-1", [randn(2, 3, 1), randn(2, 3, 4), randn(2, 3, 2)], dim=-1)
    cl.add("cat", "2x1x3+2x4x3/dim=1", [randn(2, 1, 3), randn(2, 4, 3)], dim=1)
    cl.add("cat", "3_three_times/dim=0", [randn(3), randn(3), randn(3)], dim=0)

    a23, b23, c23 = randn(2, 3), randn(2, 3), randn(2, 3)
    for dim in (0, 1, 2, -1, -3):
        cl.add("stack", f"3x(2x3)/dim={dim}", [a23, b23, c23], dim=dim)

    cl.add("where", "3x4_all_same_shape", [randn(3, 4), randn(3, 4)], condition=bools(3, 4))
    cl.add("where", "cond_3x1/a_1x4/b_2x1x1", [randn(1, 4), randn(2, 1, 1)], condition=bools(3, 1))
    cl.add("where", "cond_2x3x4/a_4/b_0-dim", [randn(4), randn(())], condition=bools(2, 3, 4))

    x2345 = randn(2, 3, 4, 5)
    cl.add("permute", "2x3x4/dims=2,0,1", [randn(2, 3, 4)], dims=[2, 0, 1])
    cl.add("permute", "2x3x4x5/dims=0,2,1,3", [x2345], dims=[0, 2, 1, 3])
    cl.add("permute", "2x3x4x5/dims=-1,0,-2,1", [x2345], dims=[-1, 0, -2, 1])
    cl.add("permute", "3x4/dims=1,0", [randn(3, 4)], dims=[1, 0])

    cl.add("expand", "3x1/to_2x3x4", [x31], sizes=[2, 3, 4])
    cl.add("expand", "3x1/to_-1x5", [x31], sizes=[-1, 5])
    cl.add("expand", "4/to_2x3x4", [randn(4)], sizes=[2, 3, 4])
    cl.add("expand", "1x4x1/to_3x-1x2", [randn(1, 4, 1)], sizes=[3, -1, 2])
    cl.add("expand", "0-dim/to_2x3", [randn(())], sizes=[2, 3])
    return {"cases": cl.cases}


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}")
    write_json("indexing.json", indexing_cases())


if __name__ == "__main__":
    main()
