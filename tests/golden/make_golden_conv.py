#!/usr/bin/python3
"""Generate conv.json: PyTorch golden fixtures for xgrad's convolution and pooling.

Run from the repository root with Debian's PyTorch (package python3-torch, PyTorch 1.13):

    /usr/bin/python3 tests/golden/make_golden_conv.py

Ops covered (the calls are in FUNCTIONS below):

    conv2d               stride, padding, dilation, groups, with and without bias, unbatched,
                         non-square kernels and inputs, 1x1 kernels
    max_pool2d           stride, padding, dilation, ceil_mode, ties, NaN, -inf, unbatched
    avg_pool2d           padding, ceil_mode, count_include_pad, divisor_override
    adaptive_avg_pool2d  output sizes that divide the input and that do not, 1 x 1, unbatched

Each case exists in float32 and float64, computed natively in that dtype (float32 inputs are the
float64 inputs rounded), with a random upstream gradient shared by both dtypes; every floating
input requires grad and its gradient is recorded. Shapes are tiny to keep the file small. The format
is math.json's (README.md).
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (shares the JSON encoding and the upstream rule)

SEED = 2024
F64 = torch.float64
NAN = float("nan")
INF = float("inf")

FUNCTIONS = {
    "conv2d": lambda x, a: F.conv2d(*x, **a),
    "max_pool2d": lambda x, a: F.max_pool2d(x[0], **a),
    "avg_pool2d": lambda x, a: F.avg_pool2d(x[0], **a),
    "adaptive_avg_pool2d": lambda x, a: F.adaptive_avg_pool2d(x[0], **a),
}


def randn(*shape):
    return torch.randn(*shape, dtype=F64)


class Cases:
    def __init__(self):
        self.cases = []

    def add(self, name, fn, inputs, args):
        for dtype, dname in ((torch.float32, "float32"), (F64, "float64")):
            key = f"{fn}/{name}"
            xs = [t.detach().to(dtype).clone().requires_grad_() for t in inputs]
            out = FUNCTIONS[fn](xs, args)
            up = mg.upstream_like(out, key)
            out.backward(up)
            self.cases.append({
                "name": f"{key}/{dname}", "fn": fn, "dtype": dname,
                "args": {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()},
                "inputs": [mg.tensor_to_json(t) for t in xs],
                "upstream": mg.tensor_to_json(up), "output": mg.tensor_to_json(out),
                "grads": [mg.tensor_to_json(t.grad) for t in xs],
                "grad_fn": out.grad_fn.name()})


def main():
    torch.manual_seed(SEED)
    c = Cases()

    # conv2d: inputs are [input, weight] or [input, weight, bias]
    c.add("basic+bias", "conv2d", [randn(2, 2, 4, 5), randn(3, 2, 3, 3), randn(3)], {})
    c.add("no_bias", "conv2d", [randn(2, 2, 5, 5), randn(3, 2, 3, 3)], {})
    c.add("stride2+padding1", "conv2d", [randn(2, 2, 6, 5), randn(3, 2, 3, 3), randn(3)],
          {"stride": 2, "padding": 1})
    c.add("stride(2,1)+padding(0,2)+nonsquare", "conv2d", [randn(1, 2, 7, 4), randn(2, 2, 3, 2), randn(2)],
          {"stride": (2, 1), "padding": (0, 2)})
    c.add("dilation2+padding2", "conv2d", [randn(1, 1, 6, 7), randn(2, 1, 3, 3), randn(2)],
          {"padding": 2, "dilation": 2})
    c.add("dilation(1,2)+stride3", "conv2d", [randn(1, 2, 8, 9), randn(2, 2, 2, 3)],
          {"stride": 3, "dilation": (1, 2)})
    c.add("groups2", "conv2d", [randn(1, 4, 4, 5), randn(6, 2, 3, 3), randn(6)], {"groups": 2, "padding": 1})
    c.add("groups4_depthwise", "conv2d", [randn(1, 4, 4, 5), randn(4, 1, 2, 2)], {"groups": 4})
    c.add("unbatched", "conv2d", [randn(2, 5, 4), randn(3, 2, 3, 2), randn(3)], {"padding": 1})
    c.add("1x1", "conv2d", [randn(2, 3, 3, 4), randn(2, 3, 1, 1), randn(2)], {})
    c.add("1x1+stride2", "conv2d", [randn(1, 3, 5, 4), randn(2, 3, 1, 1)], {"stride": 2})
    c.add("kernel_equals_input", "conv2d", [randn(2, 2, 3, 3), randn(2, 2, 3, 3), randn(2)], {})
    c.add("stride_leaves_rows", "conv2d", [randn(1, 1, 6, 6), randn(1, 1, 2, 2)], {"stride": 3, "padding": 0})

    # max_pool2d
    x = randn(2, 2, 5, 6)
    c.add("k2", "max_pool2d", [x], {"kernel_size": 2})
    c.add("k3+s2+p1", "max_pool2d", [x], {"kernel_size": 3, "stride": 2, "padding": 1})
    c.add("k(2,3)+s1+dilation2", "max_pool2d", [x], {"kernel_size": (2, 3), "stride": 1, "dilation": 2})
    c.add("k2+ceil", "max_pool2d", [randn(1, 2, 5, 5)], {"kernel_size": 2, "ceil_mode": True})
    c.add("k3+s2+p1+ceil", "max_pool2d", [randn(1, 1, 6, 6)],
          {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True})
    ties = torch.tensor([[[[1., 1., 2., 2.], [1., 0., 2., 2.], [3., 3., 0., 0.], [3., 3., 0., -1.]]]], dtype=F64)
    c.add("ties+overlap", "max_pool2d", [ties], {"kernel_size": 2, "stride": 1})
    special = torch.tensor([[[[1., NAN, 2., 0.], [NAN, 5., 2., 9.], [-INF, -INF, 3., NAN],
                              [-INF, -INF, 1., 4.]]]], dtype=F64)
    c.add("nan+neg_inf", "max_pool2d", [special], {"kernel_size": 2})
    c.add("unbatched", "max_pool2d", [randn(3, 4, 5)], {"kernel_size": 2, "stride": (1, 2)})

    # avg_pool2d
    x = randn(2, 2, 5, 5)
    c.add("k2", "avg_pool2d", [x], {"kernel_size": 2})
    c.add("k3+s2+p1", "avg_pool2d", [x], {"kernel_size": 3, "stride": 2, "padding": 1})
    c.add("k3+s2+p1+no_pad_count", "avg_pool2d", [x],
          {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False})
    c.add("k3+s2+p1+ceil", "avg_pool2d", [randn(1, 1, 6, 6)],
          {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True})
    c.add("k3+s2+p1+ceil+no_pad_count", "avg_pool2d", [randn(1, 1, 6, 6)],
          {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False})
    c.add("k2+ceil", "avg_pool2d", [randn(1, 2, 5, 3)], {"kernel_size": 2, "ceil_mode": True})
    c.add("k(2,3)+divisor_override", "avg_pool2d", [x],
          {"kernel_size": (2, 3), "stride": 1, "padding": (1, 1), "divisor_override": 4})
    c.add("unbatched", "avg_pool2d", [randn(2, 4, 6)], {"kernel_size": (2, 3)})

    # adaptive_avg_pool2d
    c.add("3x3_of_6x6", "adaptive_avg_pool2d", [randn(1, 2, 6, 6)], {"output_size": 3})
    c.add("3x2_of_5x7", "adaptive_avg_pool2d", [randn(2, 2, 5, 7)], {"output_size": (3, 2)})
    c.add("4x5_of_3x4", "adaptive_avg_pool2d", [randn(1, 1, 3, 4)], {"output_size": (4, 5)})
    c.add("1x1", "adaptive_avg_pool2d", [randn(2, 3, 4, 5)], {"output_size": 1})
    c.add("unbatched", "adaptive_avg_pool2d", [randn(2, 5, 5)], {"output_size": (2, 3)})

    mg.write_json("conv.json", {"cases": c.cases})


if __name__ == "__main__":
    main()
