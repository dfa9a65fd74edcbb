#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's higher-order gradients.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_hvp.py

It (re)writes hvp.json next to this script, in float64:

    hvp cases       f(inputs) -> scalar; its gradient, taken with
                    create_graph=True, and the Hessian-vector product
                    d/d inputs <grad f, vectors>
    penalty cases   the gradient penalty P(inputs) of a scalar f built from
                    g = d f / d x (create_graph=True); P and its gradient
                    d P / d inputs

Output is deterministic (fixed seeds). See README.md for the format.
"""

import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, tensor_to_json, write_json  # noqa: E402

F64 = torch.float64


# Composites of pointwise ops, reductions and shape ops, written as the C++
# test writes them (tests/core/test_autograd.cpp, HvpFixtures).
def tanh_cubic_over_exp(x):
    return (torch.tanh(x) * x.pow(3) / (1 + torch.exp(x))).sum()


def logsumexp_norm(x, w):
    return torch.logsumexp(x * w, 1).sum() + torch.norm(torch.sin(x) - w, 2) + (x - w).abs().mean()


def std_max_sqrt(x):
    values = torch.max(x, 1).values
    return ((torch.sqrt(x * x + 1) * torch.std(x, 0, keepdim=True)).sum() + values.pow(2).sum()
            + torch.log1p(x.pow(2)).var() + torch.clamp(x, -0.8, 0.8).pow(3).sum()
            + x.unsqueeze(0).expand(2, 3, 4).permute(2, 0, 1).cos().sum())


def smooth_score(x, w):
    """The f of the penalty cases: one score per row of x."""
    return torch.tanh(x * w).mean(1) + torch.log1p(torch.exp(x - w)).sum(1) / 4


def penalty_squared_norm(x, w):
    g, = torch.autograd.grad(smooth_score(x, w).sum(), x, create_graph=True)
    return torch.norm(g).pow(2)


def penalty_unit_norm(x, w):
    """WGAN-GP's: each row's gradient norm pulled towards 1."""
    g, = torch.autograd.grad(smooth_score(x, w).sum(), x, create_graph=True)
    return (torch.norm(g, 2, 1) - 1).pow(2).mean()


HVP_FUNCTIONS = {
    "tanh_cubic_over_exp": (tanh_cubic_over_exp, [(3, 4)]),
    "logsumexp_norm": (logsumexp_norm, [(3, 4), (4,)]),
    "std_max_sqrt": (std_max_sqrt, [(3, 4)]),
}

PENALTY_FUNCTIONS = {
    "penalty_squared_norm": (penalty_squared_norm, [(3, 4), (4,)]),
    "penalty_unit_norm": (penalty_unit_norm, [(3, 4), (4,)]),
}


def leaves(shapes):
    return [torch.randn(*shape, dtype=F64).requires_grad_() for shape in shapes]


def hvp_case(fn_name):
    fn, shapes = HVP_FUNCTIONS[fn_name]
    inputs = leaves(shapes)
    vectors = [torch.randn(*shape, dtype=F64) for shape in shapes]
    value = fn(*inputs)
    grads = torch.autograd.grad(value, inputs, create_graph=True)
    dot = sum((g * v).sum() for g, v in zip(grads, vectors))
    hvp = torch.autograd.grad(dot, inputs)
    return {"name": f"hvp/{fn_name}", "fn": fn_name, "kind": "hvp",
            "inputs": [tensor_to_json(t) for t in inputs],
            "vectors": [tensor_to_json(t) for t in vectors],
            "value": tensor_to_json(value),
            "grads": [tensor_to_json(t) for t in grads],
            "hvp": [tensor_to_json(t) for t in hvp]}


def penalty_case(fn_name):
    fn, shapes = PENALTY_FUNCTIONS[fn_name]
    inputs = leaves(shapes)
    penalty = fn(*inputs)
    grads = torch.autograd.grad(penalty, inputs)
    return {"name": f"penalty/{fn_name}", "fn": fn_name, "kind": "penalty",
            "inputs": [tensor_to_json(t) for t in inputs],
            "value": tensor_to_json(penalty),
            "grads": [tensor_to_json(t) for t in grads]}


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    print(f"torch {torch.__version__}")
    cases = [hvp_case(name) for name in HVP_FUNCTIONS] + [penalty_case(name) for name in PENALTY_FUNCTIONS]
    write_json("hvp.json", {"cases": cases})


if __name__ == "__main__":
    main()
