#!/usr/bin/python3
"""Generate math.json: PyTorch golden fixtures for xgrad's pointwise math, reductions and
comparisons.

Run from the repository root with Debian's PyTorch (package python3-torch, PyTorch 1.13):

    /usr/bin/python3 tests/golden/make_golden_math.py

Ops covered (each `cl.add(...)` line below shows the exact call):

    elementwise  sin, cos, clamp, clamp_min, clamp_max, maximum, minimum, outer
    reductions   var, std, max, min (whole tensor and along a dim), argmax, argmin, norm, all, any
    comparisons  eq, ne, lt, le, gt, ge (tensor-tensor with promotion, tensor-scalar)

Differentiable ops get a float32 and a float64 case computed natively in that dtype (float32
inputs are the float64 inputs rounded), with a random upstream gradient shared by both dtypes,
and record every input's gradient. Inputs include NaN, exact ties (max/min, maximum/minimum,
norm(inf)), values exactly on clamp bounds, keepdim and negative dims. The format is in README.md.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (shares the JSON encoding and the upstream rule)

SEED = 4321
F64 = torch.float64
NAN = float("nan")
INF = float("inf")

DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64",
               torch.bool: "bool", torch.uint8: "uint8"}

# fn name -> f(inputs, args); args are the keyword arguments stored in the case.
FUNCTIONS = {
    "sin": lambda x, a: torch.sin(x[0]),
    "cos": lambda x, a: torch.cos(x[0]),
    "exp": lambda x, a: torch.exp(x[0]),
    "log": lambda x, a: torch.log(x[0]),
    "log1p": lambda x, a: torch.log1p(x[0]),
    "tanh": lambda x, a: torch.tanh(x[0]),
    "sigmoid": lambda x, a: torch.sigmoid(x[0]),
    "abs": lambda x, a: torch.abs(x[0]),
    "sqrt": lambda x, a: torch.sqrt(x[0]),
    "atan": lambda x, a: torch.atan(x[0]),
    "clamp": lambda x, a: torch.clamp(x[0], a.get("min"), a.get("max")),
    "clamp_min": lambda x, a: torch.clamp_min(x[0], a["min"]),
    "clamp_max": lambda x, a: torch.clamp_max(x[0], a["max"]),
    "maximum": lambda x, a: torch.maximum(x[0], x[1]),
    "minimum": lambda x, a: torch.minimum(x[0], x[1]),
    "outer": lambda x, a: torch.outer(x[0], x[1]),
    "var": lambda x, a: torch.var(x[0], **a),
    "std": lambda x, a: torch.std(x[0], **a),
    "max": lambda x, a: torch.max(x[0], **a),
    "min": lambda x, a: torch.min(x[0], **a),
    "argmax": lambda x, a: torch.argmax(x[0], **a),
    "argmin": lambda x, a: torch.argmin(x[0], **a),
    "norm": lambda x, a: torch.norm(x[0], **a),
    "all": lambda x, a: torch.all(x[0]),
    "any": lambda x, a: torch.any(x[0]),
}
for _name in ("eq", "ne", "lt", "le", "gt", "ge"):
    FUNCTIONS[_name] = (lambda op: lambda x, a: op(x[0], x[1] if len(x) > 1 else a["other"]))(
        getattr(torch, _name))


def tensor_to_json(t):
    """make_golden's encoding, extended to bool (JSON true/false) and uint8."""
    t = t.detach()
    if t.dtype in (torch.bool, torch.uint8):
        return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype],
                "data": [bool(v) if t.dtype == torch.bool else int(v) for v in t.reshape(-1).tolist()]}
    return mg.tensor_to_json(t)


def args_to_json(args):
    return {k: mg.float_to_json(v) if isinstance(v, float) else v for k, v in args.items()}


def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=F64) * scale


def t64(values):
    return torch.tensor(values, dtype=F64)


class CaseList:
    def __init__(self):
        self.cases = []
        self.names = set()

    def _append(self, case):
        assert case["name"] not in self.names, f"duplicate case {case['name']}"
        self.names.add(case["name"])
        self.cases.append(case)

    def add(self, fn, variant, inputs, **args):
        """A differentiable op: its float32 and float64 cases, with input gradients."""
        for dtype in (torch.float32, torch.float64):
            base = f"{fn}/{variant}"
            xs = [x.to(dtype).clone().requires_grad_(True) for x in inputs]
            out = FUNCTIONS[fn](xs, args)
            indices = None
            if isinstance(out, tuple):  # max/min along a dim: (values, indices)
                out, indices = out
            up = mg.upstream_like(out, base)
            out.backward(up)
            case = {"name": f"{base}/{DTYPE_NAMES[dtype]}", "fn": fn, "dtype": DTYPE_NAMES[dtype],
                    "args": args_to_json(args), "inputs": [tensor_to_json(x) for x in xs],
                    "upstream": tensor_to_json(up), "output": tensor_to_json(out),
                    "grads": [tensor_to_json(x.grad) for x in xs],
                    "grad_fn": out.grad_fn.name()}
            if indices is not None:
                case["indices"] = tensor_to_json(indices)
            self._append(case)

    def add_plain(self, fn, variant, inputs, **args):
        """A non-differentiable op (argmax, all, comparisons), inputs in their own dtypes."""
        out = FUNCTIONS[fn](inputs, args)
        assert not out.requires_grad
        self._append({"name": f"{fn}/{variant}", "fn": fn, "args": args_to_json(args),
                      "inputs": [tensor_to_json(x) for x in inputs], "output": tensor_to_json(out)})


# --------------------------------------------------------------------------
# elementwise
# --------------------------------------------------------------------------

def elementwise_cases(cl):
    x34 = randn(3, 4, scale=2.0)
    special = t64([NAN, INF, -INF, 0.0, 3.0, -1.5])
    for fn in ("sin", "cos"):
        cl.add(fn, "3x4", [x34])
        cl.add(fn, "nan_inf_zero", [special])

    # Values exactly on the bounds -1 and 1, inside, outside, and NaN.
    edges = t64([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, NAN])
    cl.add("clamp", "both", [edges], min=-1.0, max=1.0)
    cl.add("clamp", "int_bounds", [edges], min=-1, max=1)
    cl.add("clamp", "min_only", [edges], min=-1.0)
    cl.add("clamp", "max_only", [edges], max=1.0)
    cl.add("clamp", "min_above_max", [edges], min=1.0, max=-1.0)
    cl.add("clamp", "equal_bounds", [edges], min=0.5, max=0.5)
    cl.add("clamp", "nan_min", [edges], min=NAN, max=1.0)
    cl.add("clamp", "nan_max", [edges], min=-1.0, max=NAN)
    cl.add("clamp", "3x4", [x34], min=-0.5, max=1.5)
    cl.add("clamp_min", "edges", [edges], min=-1.0)
    cl.add("clamp_min", "3x4", [x34], min=0.25)
    cl.add("clamp_max", "edges", [edges], max=1.0)
    cl.add("clamp_max", "3x4", [x34], max=-0.25)

    # Ties (equal elements) and NaN on either or both sides.
    a = t64([1.0, 2.0, 3.0, NAN, 1.0, NAN, -0.0, 5.0])
    b = t64([2.0, 2.0, 1.0, 1.0, NAN, NAN, 0.0, 5.0])
    col = t64([[1.0], [0.0], [-1.0]])
    row = t64([0.0, 1.0, -1.0, 2.0])  # ties with the column at 3 places
    for fn in ("maximum", "minimum"):
        cl.add(fn, "ties_and_nan", [a, b])
        cl.add(fn, "broadcast_3x1_4_with_ties", [col, row])
        cl.add(fn, "3x4_and_4", [x34, randn(4)])
        cl.add(fn, "0dim_and_3", [t64(0.5), t64([0.0, 0.5, 1.0])])
    cl.add("outer", "3_4", [randn(3), randn(4)])
    cl.add("outer", "1_5", [randn(1), randn(5)])


# The pointwise functions ops/elementwise.cpp describes with one derivative each (sin and cos are
# above): a 3x4 input inside the domain, and the edge values NaN, +-inf, 0 and a few ordinary ones.
POINTWISE_DOMAINS = {"exp": (-3, 3), "log": (0.1, 4), "log1p": (-0.9, 4), "tanh": (-3, 3),
                     "sigmoid": (-4, 4), "abs": (-2, 2), "sqrt": (0.1, 4), "atan": (-3, 3)}


def pointwise_cases(cl):
    special = t64([NAN, INF, -INF, 0.0, 3.0, -1.5])
    for fn, (low, high) in POINTWISE_DOMAINS.items():
        cl.add(fn, "3x4", [torch.rand(3, 4, dtype=torch.float64) * (high - low) + low])
        cl.add(fn, "nan_inf_zero", [special])


# --------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------

def variance_cases(cl):
    x34 = randn(3, 4, scale=2.0) + 1.0
    x234 = randn(2, 3, 4)
    constant_rows = t64([[2.0, 2.0, 2.0], [1.0, -1.0, 3.0]])
    with_nan = t64([[1.0, NAN, 2.0], [0.5, 1.5, -1.0]])
    for fn in ("var", "std"):
        cl.add(fn, "3x4/whole", [x34])
        cl.add(fn, "3x4/whole/biased", [x34], unbiased=False)
        for dim in (0, 1, -1):
            cl.add(fn, f"3x4/dim={dim}", [x34], dim=dim)
        cl.add(fn, "3x4/dim=1/biased/keepdim", [x34], dim=1, unbiased=False, keepdim=True)
        cl.add(fn, "3x4/dim=-2/keepdim", [x34], dim=-2, keepdim=True)
        cl.add(fn, "2x3x4/dim=1", [x234], dim=1)
        cl.add(fn, "constant_row/dim=1", [constant_rows], dim=1)
        cl.add(fn, "constant/whole", [t64([3.0, 3.0, 3.0])])
        # One element per slice: unbiased divides 0 by 0 (NaN), biased gives 0.
        cl.add(fn, "3x1/dim=1", [randn(3, 1)], dim=1)
        cl.add(fn, "3x1/dim=1/biased", [randn(3, 1)], dim=1, unbiased=False)
        cl.add(fn, "one_element/whole/biased", [t64([1.5])], unbiased=False)
        cl.add(fn, "nan/dim=1", [with_nan], dim=1)


def extremum_cases(cl):
    x34 = randn(3, 4)
    x234 = randn(2, 3, 4)
    ties = t64([[1.0, 3.0, 3.0, -2.0], [-2.0, 0.0, -2.0, 3.0], [5.0, 5.0, 5.0, 5.0]])
    nans = t64([[1.0, NAN, 3.0, NAN], [2.0, 0.0, 2.0, 1.0]])
    for fn in ("max", "min"):
        cl.add(fn, "3x4/whole", [x34])
        cl.add(fn, "ties/whole", [ties])
        cl.add(fn, "nan/whole", [nans])
        cl.add(fn, "0dim/whole", [t64(2.5)])
        for dim in (0, 1, -1):
            cl.add(fn, f"3x4/dim={dim}", [x34], dim=dim)
        cl.add(fn, "3x4/dim=1/keepdim", [x34], dim=1, keepdim=True)
        cl.add(fn, "2x3x4/dim=1", [x234], dim=1)
        cl.add(fn, "2x3x4/dim=-3/keepdim", [x234], dim=-3, keepdim=True)
        cl.add(fn, "ties/dim=1", [ties], dim=1)
        cl.add(fn, "ties/dim=0", [ties], dim=0)
        cl.add(fn, "nan/dim=1", [nans], dim=1)
        cl.add(fn, "nan/dim=0", [nans], dim=0)
    for fn in ("argmax", "argmin"):
        cl.add_plain(fn, "ties/dim=1", [ties], dim=1)
        cl.add_plain(fn, "ties/dim=0/keepdim", [ties], dim=0, keepdim=True)
        cl.add_plain(fn, "ties/flat", [ties])
        cl.add_plain(fn, "ties/flat/keepdim", [ties], keepdim=True)
        cl.add_plain(fn, "nan/dim=1", [nans], dim=1)
        cl.add_plain(fn, "nan/flat", [nans])
        cl.add_plain(fn, "2x3x4/dim=-1", [x234], dim=-1)
        cl.add_plain(fn, "int64/dim=0", [torch.tensor([[3, 1, 1], [3, 4, 0]])], dim=0)


def norm_cases(cl):
    x34 = randn(3, 4)
    special = t64([[0.0, 1.0, -2.0], [0.0, 0.0, 0.0], [2.0, -2.0, 1.0], [NAN, 1.0, -2.0],
                   [INF, 1.0, -2.0]])
    for p in (2, 1, 3, 1.5, 0.5, INF, -INF, -1.0):
        label = {INF: "inf", -INF: "-inf"}.get(p, p)
        cl.add("norm", f"3x4/p={label}/whole", [x34], p=p)
        cl.add("norm", f"special/p={label}/dim=1", [special], p=p, dim=1)
    cl.add("norm", "3x4/default_p", [x34])
    cl.add("norm", "zeros/p=2/whole", [torch.zeros(2, 3, dtype=F64)], p=2)
    cl.add("norm", "3x4/p=2/dim=0", [x34], p=2, dim=0)
    cl.add("norm", "3x4/p=2/dim=-1/keepdim", [x34], p=2, dim=-1, keepdim=True)
    cl.add("norm", "2x3x4/p=3/dim=1/keepdim", [randn(2, 3, 4)], p=3, dim=1, keepdim=True)
    cl.add("norm", "3x4/p=inf/dim=0", [x34], p=INF, dim=0)
    cl.add("norm", "0dim/p=2", [t64(-3.0)], p=2)


def truth_cases(cl):
    for fn in ("all", "any"):
        cl.add_plain(fn, "float32/nan_and_negative_zero", [torch.tensor([NAN, -0.0])])
        cl.add_plain(fn, "float32/nonzero", [torch.tensor([[NAN, 1.0], [-2.0, 0.5]])])
        cl.add_plain(fn, "float64/zeros", [torch.zeros(2, 2, dtype=F64)])
        cl.add_plain(fn, "int64/mixed", [torch.tensor([3, 0, -1])])
        cl.add_plain(fn, "int64/nonzero", [torch.tensor([3, 2, -1])])
        cl.add_plain(fn, "bool/true", [torch.tensor([True, True])])
        cl.add_plain(fn, "bool/mixed", [torch.tensor([True, False])])
        cl.add_plain(fn, "uint8/mixed", [torch.tensor([0, 7], dtype=torch.uint8)])
        cl.add_plain(fn, "uint8/nonzero", [torch.tensor([1, 255], dtype=torch.uint8)])
        cl.add_plain(fn, "empty", [torch.zeros(0)])


# --------------------------------------------------------------------------
# comparisons
# --------------------------------------------------------------------------

def compare_cases(cl):
    a = torch.tensor([[1.0, NAN, 3.0, -0.0], [2.0, 2.0, INF, 5.0]])
    b = torch.tensor([1.0, NAN, 4.0, 0.0])
    col = torch.tensor([[2.0], [NAN]])
    pairs = [
        ("float32/broadcast_row", a, b),
        ("float32/broadcast_col", a, col),
        ("float64/same_shape", a.double(), a.double().flip(0)),
        ("int64/broadcast", torch.tensor([[1, 5, -3], [0, 2, 2]]), torch.tensor([2, 5, -4])),
        ("bool/same_shape", torch.tensor([True, True, False, False]), torch.tensor([True, False, True, False])),
        ("uint8/same_shape", torch.tensor([0, 7, 255], dtype=torch.uint8), torch.tensor([1, 7, 254], dtype=torch.uint8)),
        # Promotion: int64 against float32 compares in float32 (16777217 rounds to 16777216).
        ("int64_vs_float32", torch.tensor([16777217, 2, -1]), torch.tensor([16777216.0, 2.5, -1.0])),
        ("int64_vs_float64", torch.tensor([16777217, 2, -1]), torch.tensor([16777216.0, 2.5, -1.0], dtype=F64)),
        ("float32_vs_float64", torch.tensor([0.1, 0.5, NAN]), torch.tensor([0.1, 0.5, 1.0], dtype=F64)),
        ("bool_vs_int64", torch.tensor([True, False, True]), torch.tensor([1, 0, 2])),
        ("uint8_vs_int64", torch.tensor([0, 200, 255], dtype=torch.uint8), torch.tensor([-1, 200, 300])),
        ("bool_vs_uint8", torch.tensor([True, False]), torch.tensor([1, 1], dtype=torch.uint8)),
        # A 0-dim tensor only widens the other side when it is of a higher kind.
        ("float32_vs_0dim_float64", torch.tensor([0.1, 0.2]), torch.tensor(0.1, dtype=F64)),
        ("int64_vs_0dim_float64", torch.tensor([1, 2]), torch.tensor(1.5, dtype=F64)),
        ("0dim_int64_vs_uint8", torch.tensor(300), torch.tensor([44, 45], dtype=torch.uint8)),
        ("0dim_vs_0dim", torch.tensor(2.0), torch.tensor(2)),
    ]
    scalars = [
        ("float32_vs_0.1", torch.tensor([0.1, 0.2, NAN]), 0.1),
        ("float64_vs_0.1", torch.tensor([0.1, 0.2, NAN], dtype=F64), 0.1),
        ("float32_vs_int", torch.tensor([1.0, 2.5, -3.0]), 2),
        ("int64_vs_float", torch.tensor([1, 2, 3]), 1.5),
        ("int64_vs_big_float", torch.tensor([16777217, 16777218]), 16777216.0),
        ("int64_vs_int", torch.tensor([1, 2, 3]), 2),
        ("uint8_vs_minus_one", torch.tensor([0, 128, 255], dtype=torch.uint8), -1),
        ("uint8_vs_257", torch.tensor([1, 2], dtype=torch.uint8), 257),
        ("bool_vs_int", torch.tensor([True, False]), 1),
        ("bool_vs_2", torch.tensor([True, False]), 2),
        ("bool_vs_bool", torch.tensor([True, False]), True),
        ("bool_vs_float", torch.tensor([True, False]), 0.5),
        ("float32_vs_nan", torch.tensor([1.0, NAN]), NAN),
        ("float32_vs_inf", torch.tensor([1.0, INF]), INF),
        ("float32_vs_huge_double", torch.tensor([1.0, INF]), 1e300),
    ]
    for fn in ("eq", "ne", "lt", "le", "gt", "ge"):
        for variant, x, y in pairs:
            cl.add_plain(fn, f"tensor/{variant}", [x, y])
        for variant, x, s in scalars:
            cl.add_plain(fn, f"scalar/{variant}", [x], other=s)


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    print(f"torch {torch.__version__}")
    cl = CaseList()
    elementwise_cases(cl)
    variance_cases(cl)
    extremum_cases(cl)
    norm_cases(cl)
    truth_cases(cl)
    compare_cases(cl)
    pointwise_cases(cl)
    mg.write_json("math.json", {"cases": cl.cases})


if __name__ == "__main__":
    main()
