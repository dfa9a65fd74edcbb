#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's C++ tests.

Run from the repository root with Debian's PyTorch (package python3-torch,
PyTorch 1.13), i.e. with the system interpreter, not a pyenv/venv one:

    /usr/bin/python3 tests/golden/make_golden.py

It (re)writes, next to this script:

    activations.json   softmax, log_softmax, sigmoid
    losses.json        nll_loss, cross_entropy, binary_cross_entropy,
                       binary_cross_entropy_with_logits, kl_div, mse_loss
    sgd.json           torch.optim.SGD trajectories on a tiny MLP

Output is deterministic (fixed seeds). CI never runs this script: the JSON
files are committed and read by the C++ tests. See README.md for the format.

Every case is produced by one call of the form

    output = torch.nn.functional.<fn>(input[, target], **options)
    output.backward(upstream)

and each `add(...)` line below shows exactly which fn/options were used.
"""

import copy
import json
import math
import os
import warnings
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

SEED = 1234
OUT_DIR = os.path.dirname(os.path.abspath(__file__))

F64 = torch.float64
I64 = torch.int64
DTYPES = (torch.float32, torch.float64)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64", torch.int64: "int64"}

FUNCTIONS = {
    "softmax": F.softmax,
    "log_softmax": F.log_softmax,
    "sigmoid": torch.sigmoid,
    "nll_loss": F.nll_loss,
    "cross_entropy": F.cross_entropy,
    "binary_cross_entropy": F.binary_cross_entropy,
    "binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits,
    "kl_div": F.kl_div,
    "mse_loss": F.mse_loss,
}

# Things worth telling a human about (e.g. targets torch cannot differentiate).
NOTES = []


# --------------------------------------------------------------------------
# JSON encoding
# --------------------------------------------------------------------------

def float_to_json(x):
    """A Python float, or "nan" / "inf" / "-inf" (strict JSON has no such tokens)."""
    x = float(x)  # float32 -> double is exact
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def tensor_to_json(t):
    t = t.detach().cpu()
    if t.dtype not in DTYPE_NAMES:
        raise ValueError(f"unsupported dtype {t.dtype}")
    flat = t.reshape(-1).tolist()
    if t.dtype.is_floating_point:
        data = [float_to_json(v) for v in flat]
    else:
        data = [int(v) for v in flat]
    return {"shape": list(t.shape), "dtype": DTYPE_NAMES[t.dtype], "data": data}


def options_to_json(options):
    return {k: tensor_to_json(v) if torch.is_tensor(v) else v for k, v in options.items()}


def _dumps(obj):
    return json.dumps(obj, allow_nan=False, separators=(",", ":"))


def write_json(filename, obj):
    """Compact JSON, but one top-level key per line and one list element
    (e.g. one case) per line, so diffs stay readable."""
    lines = []
    for key, value in obj.items():
        if isinstance(value, list):
            items = ",\n".join(_dumps(v) for v in value)
            lines.append(f"{_dumps(key)}:[\n{items}\n]")
        else:
            lines.append(f"{_dumps(key)}:{_dumps(value)}")
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    assert json.loads(text) == json.loads(_dumps(obj))
    path = os.path.join(OUT_DIR, filename)
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {path} ({len(text)} bytes)")


# --------------------------------------------------------------------------
# Input data helpers (all draw from the global torch RNG, seeded per file)
# --------------------------------------------------------------------------

def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=F64) * scale


def rand(*shape):
    return torch.rand(*shape, dtype=F64)


def classes(num_classes, *shape):
    return torch.randint(0, num_classes, shape, dtype=I64)


def positive_weight(*shape):
    """Per-class weights in [0.5, 2)."""
    return 0.5 + 1.5 * torch.rand(*shape, dtype=F64)


def upstream_like(output, key):
    """Random grad_output (never ones) with a per-case seed: both dtypes of one
    case get the same upstream values and reordering cases changes nothing."""
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    return torch.randn(output.shape, generator=gen, dtype=F64).to(output.dtype)


# --------------------------------------------------------------------------
# Case builder
# --------------------------------------------------------------------------

def _cast(x, dtype):
    """Floating tensors go to `dtype`; integer tensors (class indices) stay."""
    if torch.is_tensor(x) and x.dtype.is_floating_point:
        return x.to(dtype)
    return x


def make_case(fn, variant, dtype, input, target=None, expect_finite=False, **options):
    """Run FUNCTIONS[fn](input[, target], **options) natively in `dtype`, then
    output.backward(upstream) with a random upstream. Returns the case dict."""
    func = FUNCTIONS[fn]
    name_parts = [fn, variant]
    if "reduction" in options:
        name_parts.append(options["reduction"])
    base_name = "/".join(name_parts)
    name = f"{base_name}/{DTYPE_NAMES[dtype]}"

    x = _cast(input, dtype).clone()
    t = _cast(target, dtype).clone() if target is not None else None
    opts = {k: _cast(v, dtype) for k, v in options.items()}

    def run(target_grad):
        xi = x.clone().requires_grad_(True)
        ti = None
        if t is not None:
            ti = t.clone()
            if target_grad:
                ti.requires_grad_(True)
        out = func(xi, **opts) if ti is None else func(xi, ti, **opts)
        up = upstream_like(out, base_name)
        out.backward(up)
        return out, up, xi.grad, (ti.grad if target_grad else None)

    grad_target = None
    if t is not None and t.dtype.is_floating_point:
        try:
            out, up, grad_input, grad_target = run(target_grad=True)
            if grad_target is None:
                NOTES.append(f"{name}: target grad is None (not used in graph)")
        except RuntimeError as e:
            NOTES.append(f"{name}: torch cannot differentiate w.r.t. target: "
                         f"{str(e).splitlines()[0]}")
            out, up, grad_input, _ = run(target_grad=False)
    else:
        out, up, grad_input, _ = run(target_grad=False)

    if expect_finite:
        for what, v in (("output", out), ("grad_input", grad_input)):
            assert torch.isfinite(v).all(), f"{name}: non-finite {what}: {v}"

    case = {"name": name, "fn": fn, "dtype": DTYPE_NAMES[dtype],
            "options": options_to_json(opts), "input": tensor_to_json(x)}
    if t is not None:
        case["target"] = tensor_to_json(t)
    case["upstream"] = tensor_to_json(up)
    case["output"] = tensor_to_json(out)
    case["grad_input"] = tensor_to_json(grad_input)
    if grad_target is not None:
        case["grad_target"] = tensor_to_json(grad_target)
    return case


class UniqueCases:
    """A fixture file's cases, each name at most once."""

    def __init__(self):
        self.cases = []
        self.names = set()

    def append(self, case):
        assert case["name"] not in self.names, f"duplicate case {case['name']}"
        self.names.add(case["name"])
        self.cases.append(case)


class CaseList(UniqueCases):
    def add(self, fn, variant, input, target=None, **options):
        """Add the float32 and the float64 version of one case."""
        for dtype in DTYPES:
            self.append(make_case(fn, variant, dtype, input, target, **options))

    def add_reductions(self, fn, variant, input, target, reductions=("none", "sum", "mean"),
                       **options):
        for r in reductions:
            self.add(fn, variant, input, target, reduction=r, **options)

    def to_json(self):
        return {"cases": self.cases}


# --------------------------------------------------------------------------
# activations.json
# --------------------------------------------------------------------------

def activation_cases():
    torch.manual_seed(SEED)
    cl = CaseList()

    x34 = randn(3, 4)
    x234 = randn(2, 3, 4)
    x5 = randn(5)
    big1e3 = randn(3, 4, scale=1e3)
    big1e4 = randn(3, 4, scale=1e4)
    # rows: identical huge positive, identical huge negative, huge mixed signs
    same_huge = torch.tensor([[1e4, 1e4, 1e4, 1e4],
                              [-1e4, -1e4, -1e4, -1e4],
                              [1e4, -1e4, 1e4, 0.0]], dtype=F64)

    for fn in ("softmax", "log_softmax"):
        for dim in (0, 1, -1):
            cl.add(fn, f"3x4/dim={dim}", x34, dim=dim, expect_finite=True)
        cl.add(fn, "2x3x4/dim=1", x234, dim=1, expect_finite=True)
        cl.add(fn, "5/dim=0", x5, dim=0, expect_finite=True)
        cl.add(fn, "3x4_x1e3/dim=1", big1e3, dim=1, expect_finite=True)
        cl.add(fn, "3x4_x1e3/dim=0", big1e3, dim=0, expect_finite=True)
        cl.add(fn, "3x4_x1e4/dim=-1", big1e4, dim=-1, expect_finite=True)
        cl.add(fn, "3x4_identical_huge_rows/dim=1", same_huge, dim=1, expect_finite=True)

    sig = torch.cat([randn(8),
                     torch.tensor([50.0, -50.0, 1e4, -1e4, 0.0], dtype=F64)]).reshape(13)
    cl.add("sigmoid", "13_incl_pm50_pm1e4_0", sig, expect_finite=True)
    cl.add("sigmoid", "3x4", randn(3, 4))
    return cl


# --------------------------------------------------------------------------
# losses.json
# --------------------------------------------------------------------------

def nll_loss_cases(cl):
    C = 4
    # (C) input with a 0-dim target
    cl.add_reductions("nll_loss", "C", F.log_softmax(randn(C), 0), torch.tensor(2))
    # (N,C): log_softmax outputs
    x_nc, y_nc = F.log_softmax(randn(5, C), 1), torch.tensor([0, 3, 1, 1, 2])
    cl.add_reductions("nll_loss", "NC", x_nc, y_nc)
    # (N,C,d1) and (N,C,d1,d2): raw randn (nll_loss accepts any real input)
    x_ncd, y_ncd = randn(3, C, 5), classes(C, 3, 5)
    cl.add_reductions("nll_loss", "NCd1_raw", x_ncd, y_ncd)
    x_ncdd, y_ncdd = randn(2, C, 3, 2), classes(C, 2, 3, 2)
    cl.add_reductions("nll_loss", "NCd1d2_raw", x_ncdd, y_ncdd)
    # weight
    w = positive_weight(C)
    cl.add_reductions("nll_loss", "NC/weight", x_nc, y_nc, weight=w)
    cl.add_reductions("nll_loss", "NCd1_raw/weight", x_ncd, y_ncd, weight=w)
    cl.add("nll_loss", "NCd1d2_raw/weight", x_ncdd, y_ncdd, weight=w, reduction="mean")
    cl.add("nll_loss", "C/weight", F.log_softmax(randn(C), 0), torch.tensor(1),
           weight=w, reduction="mean")
    # ignore_index: explicit default (-100, nothing ignored), then a real class (1)
    cl.add_reductions("nll_loss", "NC/ignore_index=-100", x_nc, y_nc, ignore_index=-100)
    cl.add_reductions("nll_loss", "NC/ignore_index=1", x_nc, y_nc, ignore_index=1)
    cl.add_reductions("nll_loss", "NC/weight+ignore_index=1", x_nc, y_nc,
                      weight=w, ignore_index=1)
    cl.add_reductions("nll_loss", "NCd1_raw/weight+ignore_index=2", x_ncd, y_ncd,
                      weight=w, ignore_index=2)
    cl.add("nll_loss", "C/ignore_index=2_ignored", F.log_softmax(randn(C), 0),
           torch.tensor(2), ignore_index=2, reduction="none")
    # all targets ignored: mean -> nan (0/0), sum -> 0, none -> zeros
    all_ignored = torch.full((4,), -100, dtype=I64)
    x_ai = randn(4, C)
    cl.add_reductions("nll_loss", "NC/all_ignored", x_ai, all_ignored)
    cl.add_reductions("nll_loss", "NC/weight+all_ignored", x_ai, all_ignored, weight=w)
    cl.add_reductions("nll_loss", "NC/all_ignored_real_class", x_ai,
                      torch.full((4,), 3, dtype=I64), ignore_index=3)


def cross_entropy_cases(cl):
    C = 5
    x_c, y_c = randn(C), torch.tensor(3)
    x_nc, y_nc = randn(4, C), torch.tensor([1, 0, 4, 1])
    x_ncd, y_ncd = randn(3, C, 4), classes(C, 3, 4)
    x_ncdd, y_ncdd = randn(2, C, 3, 2), classes(C, 2, 3, 2)
    w = positive_weight(C)

    # class-index targets
    cl.add_reductions("cross_entropy", "C", x_c, y_c)
    cl.add_reductions("cross_entropy", "NC", x_nc, y_nc)
    cl.add_reductions("cross_entropy", "NCd1", x_ncd, y_ncd)
    cl.add_reductions("cross_entropy", "NCd1d2", x_ncdd, y_ncdd)
    # weight
    cl.add_reductions("cross_entropy", "C/weight", x_c, y_c, weight=w)
    cl.add_reductions("cross_entropy", "NC/weight", x_nc, y_nc, weight=w)
    cl.add_reductions("cross_entropy", "NCd1/weight", x_ncd, y_ncd, weight=w)
    cl.add("cross_entropy", "NCd1d2/weight", x_ncdd, y_ncdd, weight=w, reduction="mean")
    # ignore_index
    cl.add_reductions("cross_entropy", "NC/ignore_index=-100", x_nc, y_nc, ignore_index=-100)
    cl.add_reductions("cross_entropy", "NC/ignore_index=1", x_nc, y_nc, ignore_index=1)
    cl.add_reductions("cross_entropy", "NC/weight+ignore_index=1", x_nc, y_nc,
                      weight=w, ignore_index=1)
    cl.add_reductions("cross_entropy", "NCd1d2/ignore_index=2", x_ncdd, y_ncdd, ignore_index=2)
    # label smoothing, alone and with weight / ignore_index
    for ls in (0.1, 0.3):
        cl.add_reductions("cross_entropy", f"C/ls={ls}", x_c, y_c, label_smoothing=ls)
        cl.add_reductions("cross_entropy", f"NC/ls={ls}", x_nc, y_nc, label_smoothing=ls)
        cl.add_reductions("cross_entropy", f"NC/ls={ls}+weight", x_nc, y_nc,
                          label_smoothing=ls, weight=w)
        cl.add_reductions("cross_entropy", f"NC/ls={ls}+ignore_index=1", x_nc, y_nc,
                          label_smoothing=ls, ignore_index=1)
        cl.add_reductions("cross_entropy", f"NC/ls={ls}+weight+ignore_index=1", x_nc, y_nc,
                          label_smoothing=ls, weight=w, ignore_index=1)
        cl.add_reductions("cross_entropy", f"NCd1/ls={ls}+weight+ignore_index=2", x_ncd, y_ncd,
                          label_smoothing=ls, weight=w, ignore_index=2)
    # all targets ignored: mean -> nan
    x_ai, y_ai = randn(3, C), torch.full((3,), -100, dtype=I64)
    cl.add_reductions("cross_entropy", "NC/all_ignored", x_ai, y_ai)
    cl.add_reductions("cross_entropy", "NC/weight+all_ignored", x_ai, y_ai, weight=w)
    cl.add_reductions("cross_entropy", "NC/ls=0.1+all_ignored", x_ai, y_ai,
                      label_smoothing=0.1)
    # huge logits
    for scale, label in ((1e3, "1e3"), (1e4, "1e4")):
        x_big = randn(4, C, scale=scale)
        cl.add_reductions("cross_entropy", f"NC_x{label}", x_big, y_nc)
        cl.add("cross_entropy", f"NC_x{label}/ls=0.1+weight", x_big, y_nc,
               label_smoothing=0.1, weight=w, reduction="mean")
    # class-probability targets (same shape as input; no ignore_index)
    p_nc = F.softmax(randn(4, C), 1)
    p_ncd = F.softmax(randn(3, C, 4), 1)
    p_c = F.softmax(randn(C), 0)
    cl.add_reductions("cross_entropy", "NC/prob_target", x_nc, p_nc)
    cl.add_reductions("cross_entropy", "NC/prob_target+weight", x_nc, p_nc, weight=w)
    cl.add_reductions("cross_entropy", "NC/prob_target+ls=0.1", x_nc, p_nc, label_smoothing=0.1)
    cl.add_reductions("cross_entropy", "NC/prob_target+ls=0.3+weight", x_nc, p_nc,
                      label_smoothing=0.3, weight=w)
    cl.add_reductions("cross_entropy", "NCd1/prob_target", x_ncd, p_ncd)
    cl.add_reductions("cross_entropy", "NCd1/prob_target+weight", x_ncd, p_ncd, weight=w)
    cl.add_reductions("cross_entropy", "NCd1/prob_target+ls=0.1+weight", x_ncd, p_ncd,
                      label_smoothing=0.1, weight=w)
    cl.add_reductions("cross_entropy", "C/prob_target", x_c, p_c)


def binary_cross_entropy_cases(cl):
    N, C = 4, 3
    p = torch.sigmoid(randn(N, C))          # strictly inside (0,1)
    hard = torch.randint(0, 2, (N, C)).to(F64)
    soft = rand(N, C)
    w_c = positive_weight(C)                # broadcast along the last dim
    w_nc = positive_weight(N, C)
    cl.add_reductions("binary_cross_entropy", "NC/hard_target", p, hard)
    cl.add_reductions("binary_cross_entropy", "NC/soft_target", p, soft)
    cl.add_reductions("binary_cross_entropy", "NC/soft_target+weight_C", p, soft, weight=w_c)
    cl.add_reductions("binary_cross_entropy", "NC/hard_target+weight_NC", p, hard, weight=w_nc)
    cl.add_reductions("binary_cross_entropy", "1d", torch.sigmoid(randn(6)), rand(6))
    # inputs exactly 0 and 1: log() is clamped at -100; the backward divides by
    # max(x*(1-x), 1e-12), so grads become 0 or +-1e12-ish, not inf.
    edge_x = torch.tensor([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.25, 0.75], dtype=F64)
    edge_y = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.5, 0.5, 1.0, 0.0], dtype=F64)
    cl.add_reductions("binary_cross_entropy", "edge_inputs_0_and_1", edge_x, edge_y)
    cl.add("binary_cross_entropy", "edge_inputs_0_and_1/weight", edge_x, edge_y,
           weight=positive_weight(8), reduction="sum")


def bce_with_logits_cases(cl):
    fn = "binary_cross_entropy_with_logits"
    N, C = 4, 3
    z = randn(N, C, scale=2.0)
    hard = torch.randint(0, 2, (N, C)).to(F64)
    soft = rand(N, C)
    w_c, w_nc = positive_weight(C), positive_weight(N, C)
    pw_c, pw_nc = positive_weight(C) * 2, positive_weight(N, C) * 2
    cl.add_reductions(fn, "NC/hard_target", z, hard)
    cl.add_reductions(fn, "NC/soft_target", z, soft)
    cl.add_reductions(fn, "NC/weight_C", z, soft, weight=w_c)
    cl.add_reductions(fn, "NC/weight_NC", z, hard, weight=w_nc)
    cl.add_reductions(fn, "NC/pos_weight_C", z, soft, pos_weight=pw_c)
    cl.add_reductions(fn, "NC/pos_weight_NC", z, hard, pos_weight=pw_nc)
    cl.add_reductions(fn, "NC/weight_C+pos_weight_C", z, soft, weight=w_c, pos_weight=pw_c)
    cl.add_reductions(fn, "NC/weight_NC+pos_weight_NC", z, hard, weight=w_nc, pos_weight=pw_nc)
    # large logits
    for scale, label in ((1e2, "1e2"), (1e3, "1e3")):
        zb = randn(N, C, scale=scale)
        cl.add_reductions(fn, f"NC_x{label}/hard_target", zb, hard)
        cl.add(fn, f"NC_x{label}/soft_target+weight_C+pos_weight_C", zb, soft,
               weight=w_c, pos_weight=pw_c, reduction="mean")
    exact = torch.tensor([100.0, -100.0, 1000.0, -1000.0, 0.0, 100.0, -1000.0, 1000.0],
                         dtype=F64)
    exact_t = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.5, 0.0, 0.3, 1.0], dtype=F64)
    cl.add_reductions(fn, "exact_pm100_pm1000", exact, exact_t)
    cl.add(fn, "exact_pm100_pm1000/pos_weight", exact, exact_t,
           pos_weight=torch.tensor([3.0], dtype=F64), reduction="none")


def kl_div_cases(cl):
    N, C = 3, 5
    inp = F.log_softmax(randn(N, C), 1)
    probs = F.softmax(randn(N, C), 1)
    probs[0, 1] = 0.0
    probs[2, 0] = 0.0
    probs[2, 4] = 0.0
    probs = probs / probs.sum(1, keepdim=True)   # still rows of probabilities, exact zeros kept
    log_probs = F.log_softmax(randn(N, C), 1)
    reductions = ("none", "sum", "mean", "batchmean")
    cl.add_reductions("kl_div", "NC/prob_target_with_zeros", inp, probs, reductions,
                      log_target=False)
    cl.add_reductions("kl_div", "NC/log_target", inp, log_probs, reductions, log_target=True)
    inp3 = F.log_softmax(randn(2, C, 3), 1)
    cl.add_reductions("kl_div", "NCd1/prob_target", inp3, F.softmax(randn(2, C, 3), 1),
                      reductions, log_target=False)


def mse_loss_cases(cl):
    cl.add_reductions("mse_loss", "5", randn(5), randn(5))
    cl.add_reductions("mse_loss", "3x4", randn(3, 4), randn(3, 4))


def loss_cases():
    torch.manual_seed(SEED)
    cl = CaseList()
    nll_loss_cases(cl)
    cross_entropy_cases(cl)
    binary_cross_entropy_cases(cl)
    bce_with_logits_cases(cl)
    kl_div_cases(cl)
    mse_loss_cases(cl)
    return cl


# --------------------------------------------------------------------------
# sgd.json
# --------------------------------------------------------------------------

SGD_OPTION_SETS = [
    {"lr": 0.1},
    {"lr": 0.1, "momentum": 0.9},
    {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
    {"lr": 0.1, "weight_decay": 0.01},
    {"lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"lr": 0.01, "maximize": True},
    {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "nesterov": True},
]
SGD_DEFAULTS = {"momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
                "nesterov": False, "maximize": False}
SGD_STEPS = 6


def params_to_json(model):
    return {name: tensor_to_json(p) for name, p in model.named_parameters()}


def sgd_cases():
    torch.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    init = copy.deepcopy(model.state_dict())
    x = torch.randn(6, 2, dtype=F64)
    y = torch.randint(0, 3, (6,), dtype=I64)

    runs = []
    for opts in SGD_OPTION_SETS:
        opts = {"lr": opts["lr"], **SGD_DEFAULTS, **opts}
        model.load_state_dict(init)
        opt = torch.optim.SGD(model.parameters(), **opts)
        losses, params = [], []
        for _ in range(SGD_STEPS):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y, reduction="mean")
            loss.backward()
            opt.step()
            losses.append(float_to_json(loss.item()))
            params.append(params_to_json(model))
        runs.append({"options": opts, "losses": losses, "params": params})

    return {
        "model": "Sequential(Linear(2,4), ReLU(), Linear(4,3)), float64",
        "loss": "cross_entropy(model(x), y, reduction='mean')",
        "steps": SGD_STEPS,
        "init": {k: tensor_to_json(v) for k, v in init.items()},
        "x": tensor_to_json(x),
        "y": tensor_to_json(y),
        "runs": runs,
    }


# --------------------------------------------------------------------------

def main():
    # kl_div(reduction="mean") warns that it divides by numel; that is what we record.
    warnings.filterwarnings("ignore", message="reduction: 'mean' divides the total loss")
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}")
    write_json("activations.json", activation_cases().to_json())
    write_json("losses.json", loss_cases().to_json())
    write_json("sgd.json", sgd_cases())
    for note in NOTES:
        print("note:", note)


if __name__ == "__main__":
    main()
