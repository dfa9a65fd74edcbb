#!/usr/bin/python3
"""Generate activation.json and loss_regression.json: PyTorch golden fixtures for xgrad's
parametrised activations and regression losses.

Run from the repository root with Debian's PyTorch (package python3-torch, PyTorch 1.13):

    /usr/bin/python3 tests/golden/make_golden_activation.py

Ops covered (each `cl.add(...)` line below shows the exact call; FUNCTIONS shows the function):

    activation.json       leaky_relu, gelu (none, tanh), elu (alpha, scale, input_scale), silu,
                          softplus (beta, threshold)
    loss_regression.json  l1_loss, smooth_l1_loss (beta, beta = 0), huber_loss (delta)

The cases use math.json's format (README.md): a float32 and a float64 case computed natively in
that dtype (float32 inputs are the float64 inputs rounded), a random upstream gradient shared by
both dtypes, every input's gradient and the output's grad_fn name. Inputs include 0 and -0, NaN,
+-inf, values on and beside each op's thresholds (softplus' beta x = threshold, the smooth_l1 beta
and huber delta corners) and large magnitudes where exp overflows or underflows.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_golden as mg  # noqa: E402  (the JSON writer)
import make_golden_math as mgm  # noqa: E402  (the case builder and format of math.json)

SEED = 2468
NAN = float("nan")
INF = float("inf")

mgm.FUNCTIONS.update({
    "leaky_relu": lambda x, a: F.leaky_relu(x[0], **a),
    "gelu": lambda x, a: F.gelu(x[0], **a),
    # ATen's elu takes scale and input_scale too (F.elu only alpha); its grad_fn is the same.
    "elu": lambda x, a: torch.ops.aten.elu(x[0], a.get("alpha", 1.0), a.get("scale", 1.0),
                                           a.get("input_scale", 1.0)),
    "silu": lambda x, a: F.silu(x[0]),
    "softplus": lambda x, a: F.softplus(x[0], **a),
    "l1_loss": lambda x, a: F.l1_loss(x[0], x[1], **a),
    "smooth_l1_loss": lambda x, a: F.smooth_l1_loss(x[0], x[1], **a),
    "huber_loss": lambda x, a: F.huber_loss(x[0], x[1], **a),
})

t64 = mgm.t64
randn = mgm.randn


# --------------------------------------------------------------------------
# activations
# --------------------------------------------------------------------------

def activation_cases(cl):
    x34 = randn(3, 4, scale=2.0)
    # Signed zeros, NaN, infinities, and magnitudes where exp over- or underflows in float32. Sixteen
    # elements: PyTorch's CPU kernels run their vectorised path on whole chunks of 16 floats or 8
    # doubles and a scalar loop on the rest, and the two disagree on NaN for elu's gradient; the
    # vectorised one is what any real-sized tensor sees.
    edges = t64([0.0, -0.0, NAN, INF, -INF, 1e-8, -1e-8, 0.5, -0.5, 3.0, -3.0, 30.0, -30.0, 100.0, -100.0, NAN])
    big = t64([-1000.0, -90.0, -40.0, 40.0, 90.0, 1000.0])

    cl.add("leaky_relu", "3x4", [x34])
    cl.add("leaky_relu", "edges", [edges])
    cl.add("leaky_relu", "slope=0.2", [x34], negative_slope=0.2)
    cl.add("leaky_relu", "slope=-1.5", [edges], negative_slope=-1.5)

    for approximate in ("none", "tanh"):
        cl.add("gelu", f"3x4/{approximate}", [x34], approximate=approximate)
        cl.add("gelu", f"edges/{approximate}", [edges], approximate=approximate)
        cl.add("gelu", f"big/{approximate}", [big], approximate=approximate)
    cl.add("gelu", "2x3x4/default", [randn(2, 3, 4, scale=3.0)])

    cl.add("elu", "3x4", [x34])
    cl.add("elu", "edges", [edges])
    cl.add("elu", "big", [big])
    cl.add("elu", "alpha=0.5", [x34], alpha=0.5)
    # SELU's and CELU's constants, through ATen's scale and input_scale.
    cl.add("elu", "selu_constants", [edges], alpha=1.6732632423543772, scale=1.0507009873554805)
    cl.add("elu", "alpha=2,scale=1.5,input_scale=0.5", [x34], alpha=2.0, scale=1.5, input_scale=0.5)

    cl.add("silu", "3x4", [x34])
    cl.add("silu", "edges", [edges])
    cl.add("silu", "big", [big])

    # beta x just below, on and above the threshold.
    around_20 = t64([19.0, 19.999, 20.0, 20.001, 21.0, -20.0, 0.0, NAN])
    cl.add("softplus", "3x4", [x34])
    cl.add("softplus", "edges", [edges])
    cl.add("softplus", "big", [big])
    cl.add("softplus", "threshold_20", [around_20])
    cl.add("softplus", "beta=2_threshold_10", [around_20 / 2.0], beta=2.0, threshold=10.0)
    cl.add("softplus", "beta=0.5_threshold=5", [x34 * 5.0], beta=0.5, threshold=5.0)


# --------------------------------------------------------------------------
# regression losses
# --------------------------------------------------------------------------

def loss_cases(cl):
    x = randn(3, 4, scale=1.5)
    y = randn(3, 4)
    # Differences of exactly 0, +-0.5, +-1 (the default beta and delta), beyond them, and NaN.
    corner_x = t64([0.0, 0.5, -0.5, 1.0, -1.0, 2.5, -2.5, NAN, 0.25])
    corner_y = t64([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, NAN])
    empty = torch.zeros(0, dtype=torch.float64)

    for reduction in ("mean", "sum", "none"):
        cl.add("l1_loss", f"3x4/{reduction}", [x, y], reduction=reduction)
        cl.add("smooth_l1_loss", f"3x4/{reduction}", [x, y], reduction=reduction)
        cl.add("huber_loss", f"3x4/{reduction}", [x, y], reduction=reduction)
    cl.add("l1_loss", "corners/none", [corner_x, corner_y], reduction="none")
    for beta in (1.0, 0.5, 0.0, 3.0):
        cl.add("smooth_l1_loss", f"corners/beta={beta}/none", [corner_x, corner_y], reduction="none", beta=beta)
    cl.add("smooth_l1_loss", "3x4/beta=0/mean", [x, y], reduction="mean", beta=0.0)
    cl.add("smooth_l1_loss", "3x4/beta=0.3/sum", [x, y], reduction="sum", beta=0.3)
    for delta in (1.0, 0.5, 2.5):
        cl.add("huber_loss", f"corners/delta={delta}/none", [corner_x, corner_y], reduction="none", delta=delta)
    cl.add("huber_loss", "3x4/delta=0.4/mean", [x, y], reduction="mean", delta=0.4)
    cl.add("huber_loss", "2x3x2/delta=2/sum", [randn(2, 3, 2, scale=2.0), randn(2, 3, 2)], reduction="sum", delta=2.0)
    for fn in ("l1_loss", "smooth_l1_loss", "huber_loss"):
        cl.add(fn, "empty/mean", [empty, empty], reduction="mean")
        cl.add(fn, "empty/sum", [empty, empty], reduction="sum")
        cl.add(fn, "0dim/mean", [t64(1.5), t64(-0.25)], reduction="mean")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    print(f"torch {torch.__version__}")
    activations = mgm.CaseList()
    activation_cases(activations)
    mg.write_json("activation.json", {"cases": activations.cases})
    losses = mgm.CaseList()
    loss_cases(losses)
    mg.write_json("loss_regression.json", {"cases": losses.cases})


if __name__ == "__main__":
    main()
