#!/usr/bin/python3
"""Generate PyTorch golden fixtures for second derivatives through xgrad's losses.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_hvp_losses.py

It (re)writes hvp_losses.json next to this script. Each case is a small
model, a linear layer followed by a loss, in float64:

    loss = LOSSES[loss](F.linear(x, W, b), target, **options)

and records, besides the loss and its first gradients, the two things a
user differentiates twice for:

    gradient penalty   g = d loss / d x, recorded (create_graph=True);
                       penalty = sum(g * g); its gradients w.r.t. x, W, b
    Hessian-vector     h = d/d(x, W, b) of sum_i <d loss / d p_i, v_i>, the
    product            gradients p = (x, W, b) recorded, v one random tensor
                       per parameter

Output is deterministic (fixed seeds). See README.md for the format.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, tensor_to_json, write_json  # noqa: E402

F64 = torch.float64
PARAMS = ("x", "W", "b")

# What follows the linear layer, given its output z (N, C).
LOSSES = {
    "cross_entropy": lambda z, target, **options: F.cross_entropy(z, target, **options),
    "mse_loss": lambda z, target, **options: F.mse_loss(z, target, **options),
    # Probabilities for binary_cross_entropy come from a softmax over the classes.
    "binary_cross_entropy": lambda z, target, **options: F.binary_cross_entropy(
        F.softmax(z, dim=1), target, **options),
    "binary_cross_entropy_with_logits": lambda z, target, **options: F.binary_cross_entropy_with_logits(
        z, target, **options),
    "kl_div": lambda z, target, **options: F.kl_div(F.log_softmax(z, dim=1), target, **options),
}

CASES = []


def add(name, loss, target, options, batch=4, features=3, classes=5):
    x = torch.randn(batch, features, dtype=F64)
    W = torch.randn(classes, features, dtype=F64) * 0.7
    b = torch.randn(classes, dtype=F64) * 0.3
    v = {p: torch.randn(t.shape, dtype=F64) for p, t in zip(PARAMS, (x, W, b))}
    params = [t.clone().requires_grad_() for t in (x, W, b)]

    def loss_of(ps):
        return LOSSES[loss](F.linear(*ps), target, **options)

    value = loss_of(params)
    grads = torch.autograd.grad(value, params, create_graph=True)
    penalty = (grads[0] * grads[0]).sum()
    penalty_grads = torch.autograd.grad(penalty, params, retain_graph=True)
    hvp = torch.autograd.grad(sum((g * v[p]).sum() for p, g in zip(PARAMS, grads)), params)

    CASES.append({
        "name": name,
        "loss": loss,
        "options": {k: tensor_to_json(o) if torch.is_tensor(o) else o for k, o in options.items()},
        "x": tensor_to_json(x), "W": tensor_to_json(W), "b": tensor_to_json(b),
        "target": tensor_to_json(target),
        "loss_value": tensor_to_json(value),
        "grads": {p: tensor_to_json(g) for p, g in zip(PARAMS, grads)},
        "penalty": tensor_to_json(penalty),
        "penalty_grads": {p: tensor_to_json(g) for p, g in zip(PARAMS, penalty_grads)},
        "v": {p: tensor_to_json(v[p]) for p in PARAMS},
        "hvp": {p: tensor_to_json(h) for p, h in zip(PARAMS, hvp)},
    })


def main():
    torch.manual_seed(SEED)
    labels = torch.tensor([1, 0, 4, 2])
    add("cross_entropy/mean", "cross_entropy", labels, {"reduction": "mean"})
    add("cross_entropy/sum", "cross_entropy", labels, {"reduction": "sum"})
    add("cross_entropy/weight+ignore_index+label_smoothing/mean", "cross_entropy", torch.tensor([1, 3, 4, 3]),
        {"weight": 0.5 + 1.5 * torch.rand(5, dtype=F64), "ignore_index": 3, "label_smoothing": 0.2,
         "reduction": "mean"})
    add("cross_entropy/probabilities+weight+label_smoothing/mean", "cross_entropy",
        torch.softmax(torch.randn(4, 5, dtype=F64), 1),
        {"weight": 0.5 + 1.5 * torch.rand(5, dtype=F64), "label_smoothing": 0.1, "reduction": "mean"})
    add("mse_loss/mean", "mse_loss", torch.randn(4, 5, dtype=F64), {"reduction": "mean"})
    add("mse_loss/sum", "mse_loss", torch.randn(4, 5, dtype=F64), {"reduction": "sum"})
    add("binary_cross_entropy/weight/mean", "binary_cross_entropy", torch.rand(4, 5, dtype=F64),
        {"weight": 0.5 + 1.5 * torch.rand(5, dtype=F64), "reduction": "mean"})
    add("binary_cross_entropy_with_logits/mean", "binary_cross_entropy_with_logits", torch.rand(4, 5, dtype=F64),
        {"reduction": "mean"})
    add("binary_cross_entropy_with_logits/weight+pos_weight/sum", "binary_cross_entropy_with_logits",
        torch.rand(4, 5, dtype=F64),
        {"weight": 0.5 + 1.5 * torch.rand(5, dtype=F64), "pos_weight": 0.5 + 2.5 * torch.rand(5, dtype=F64),
         "reduction": "sum"})
    add("kl_div/batchmean", "kl_div", torch.softmax(torch.randn(4, 5, dtype=F64), 1), {"reduction": "batchmean"})
    write_json("hvp_losses.json", {"cases": CASES})


if __name__ == "__main__":
    main()
