#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's optimisers and gradient clipping.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_optim.py

It (re)writes, next to this script:

    optim.json       trajectories of torch.optim.Adam, AdamW, RMSprop and Adagrad
                     on a tiny MLP, each option set in float64 and float32, plus
                     StepLR schedules over SGD and Adam with two parameter groups
    clip_grad.json   torch.nn.utils.clip_grad_norm_ and clip_grad_value_

Output is deterministic (fixed seeds). See README.md for the format.

Every trajectory step is

    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    scheduler.step()        # schedule runs only

with the single-tensor (foreach=False) update functions, whose arithmetic
xgrad's loops follow.
"""

import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, float_to_json, tensor_to_json, write_json  # noqa: E402

F64 = torch.float64
I64 = torch.int64
DTYPES = (torch.float64, torch.float32)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}
STEPS = 6

# Every option of each optimiser with PyTorch's default, so that each run in
# the fixture lists all of them. `betas` is written as a two-element list.
DEFAULTS = {
    "Adam": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0,
             "amsgrad": False, "maximize": False},
    "AdamW": {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2,
              "amsgrad": False, "maximize": False},
    "RMSprop": {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0,
                "momentum": 0.0, "centered": False, "maximize": False},
    "Adagrad": {"lr": 1e-2, "lr_decay": 0.0, "weight_decay": 0.0,
                "initial_accumulator_value": 0.0, "eps": 1e-10, "maximize": False},
    "SGD": {"lr": 0.1, "momentum": 0.0, "dampening": 0.0, "weight_decay": 0.0,
            "nesterov": False, "maximize": False},
}

OPTION_SETS = {
    "Adam": [
        {"lr": 0.01},
        {"lr": 0.01, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "betas": (0.8, 0.9), "eps": 1e-6},
        {"lr": 0.01, "maximize": True},
        {"lr": 0.02, "amsgrad": True, "weight_decay": 0.1, "maximize": True},
    ],
    "AdamW": [
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.0},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
        {"lr": 0.01, "betas": (0.8, 0.9), "maximize": True},
    ],
    "RMSprop": [
        {"lr": 0.01},
        {"lr": 0.01, "centered": True},
        {"lr": 0.01, "momentum": 0.9},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
        {"lr": 0.005, "alpha": 0.9, "eps": 1e-6, "maximize": True},
    ],
    "Adagrad": [
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.1},
        {"lr": 0.1, "weight_decay": 0.1},
        {"lr": 0.1, "initial_accumulator_value": 0.5},
        {"lr": 0.1, "eps": 1e-3, "maximize": True},
        {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.1},
    ],
}

# Schedules: the optimiser, its defaults, the parameter groups (each with
# options overriding the defaults) and StepLR's arguments.
SCHEDULES = [
    {"optimizer": "SGD", "options": {"lr": 0.1, "momentum": 0.9},
     "groups": [{"params": ["0.weight", "0.bias", "2.weight", "2.bias"], "options": {}}],
     "step_size": 2, "gamma": 0.5, "steps": 7},
    {"optimizer": "Adam", "options": {"lr": 0.01},
     "groups": [{"params": ["0.weight", "0.bias"], "options": {}},
                {"params": ["2.weight", "2.bias"], "options": {"lr": 0.05, "amsgrad": True}}],
     "step_size": 3, "gamma": 0.1, "steps": 7},
]

OPTIMIZERS = {
    "Adam": torch.optim.Adam,
    "AdamW": torch.optim.AdamW,
    "RMSprop": torch.optim.RMSprop,
    "Adagrad": torch.optim.Adagrad,
    "SGD": torch.optim.SGD,
}


def options_json(options):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def make_optimizer(name, groups, options):
    """groups: list of (params, overrides) or None for all parameters in one group."""
    kwargs = dict(options)
    if name != "SGD":
        kwargs["foreach"] = False
    return OPTIMIZERS[name](groups, **kwargs)


def state_json(opt):
    """The optimiser's state in PyTorch's state_dict numbering: one dict per
    parameter, tensors by their state key and `step` as a number."""
    packed = opt.state_dict()["state"]
    count = sum(len(g["params"]) for g in opt.param_groups)
    states = []
    for index in range(count):
        entry = {}
        for key, value in sorted(packed.get(index, {}).items()):
            if key == "step":
                entry[key] = int(value.item()) if torch.is_tensor(value) else int(value)
            elif value is not None:
                entry[key] = tensor_to_json(value)
        states.append(entry)
    return states


class Problem:
    """Linear(2,4)-ReLU-Linear(4,3) with cross_entropy on 8 points."""

    def __init__(self):
        torch.manual_seed(SEED + 1)
        model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3)).double()
        self.init = copy.deepcopy(model.state_dict())
        self.x = torch.randn(8, 2, dtype=F64)
        self.y = torch.randint(0, 3, (8,), dtype=I64)

    def model(self, dtype):
        model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3)).to(dtype)
        model.load_state_dict({k: v.to(dtype) for k, v in self.init.items()})
        return model

    def run(self, dtype, steps, make, schedule=None):
        """make(named_parameters) -> optimiser; returns losses, params and
        (with a schedule) the learning rates after each step."""
        model = self.model(dtype)
        named = dict(model.named_parameters())
        opt = make(named)
        scheduler = None
        if schedule is not None:
            scheduler = torch.optim.lr_scheduler.StepLR(opt, schedule["step_size"], schedule["gamma"])
        x = self.x.to(dtype)
        losses, params, lrs = [], [], []
        for _ in range(steps):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), self.y)
            loss.backward()
            opt.step()
            losses.append(float_to_json(loss.item()))
            params.append({k: tensor_to_json(v) for k, v in model.named_parameters()})
            if scheduler is not None:
                scheduler.step()
                lrs.append(scheduler.get_last_lr())
        return opt, losses, params, lrs


def trajectory_runs(problem):
    runs = []
    for name, option_sets in OPTION_SETS.items():
        for overrides in option_sets:
            options = {**DEFAULTS[name], **overrides}
            for dtype in DTYPES:
                opt, losses, params, _ = problem.run(
                    dtype, STEPS, lambda named: make_optimizer(name, list(named.values()), options))
                runs.append({"optimizer": name, "dtype": DTYPE_NAMES[dtype],
                             "options": options_json(options), "losses": losses,
                             "params": params, "state": state_json(opt)})
    return runs


def schedule_runs(problem):
    runs = []
    for schedule in SCHEDULES:
        name = schedule["optimizer"]
        options = {**DEFAULTS[name], **schedule["options"]}

        def make(named):
            groups = [{"params": [named[p] for p in g["params"]], **g["options"]}
                      for g in schedule["groups"]]
            return make_optimizer(name, groups, options)

        for dtype in DTYPES:
            opt, losses, params, lrs = problem.run(dtype, schedule["steps"], make, schedule)
            runs.append({"optimizer": name, "dtype": DTYPE_NAMES[dtype],
                         "options": options_json(options),
                         "groups": [{"params": g["params"], "options": options_json(g["options"])}
                                    for g in schedule["groups"]],
                         "step_size": schedule["step_size"], "gamma": schedule["gamma"],
                         "losses": losses, "params": params, "lrs": lrs,
                         "state": state_json(opt)})
    return runs


def optim_fixture():
    problem = Problem()
    return {
        "model": "Sequential(Linear(2,4), ReLU(), Linear(4,3))",
        "loss": "cross_entropy(model(x), y, reduction='mean')",
        "init": {k: tensor_to_json(v) for k, v in problem.init.items()},
        "x": tensor_to_json(problem.x),
        "y": tensor_to_json(problem.y),
        "runs": trajectory_runs(problem),
        "schedules": schedule_runs(problem),
    }


# --------------------------------------------------------------------------
# clip_grad.json
# --------------------------------------------------------------------------

def clip_parameters(grads, dtype):
    """One parameter per entry; None means a parameter without a gradient."""
    params = []
    for g in grads:
        shape = (len(g),) if g is not None else (2,)
        p = torch.zeros(shape, dtype=dtype, requires_grad=True)
        if g is not None:
            p.grad = torch.tensor(g, dtype=F64).to(dtype)
        params.append(p)
    return params


def grads_json(params):
    return [tensor_to_json(p.grad) if p.grad is not None else None for p in params]


def clip_cases():
    torch.manual_seed(SEED + 2)
    random = [torch.randn(5, dtype=F64).tolist(), torch.randn(3, dtype=F64).tolist(),
              torch.randn(4, dtype=F64).tolist()]
    big = [[3.0, -4.0], None, [1.0, 0.0, 2.0], [0.0, 0.0]]
    inf = math.inf
    nan = math.nan
    grad_sets = {
        "random": random,
        "with_missing_and_zero": big,
        "nan": [[1.0, nan], [2.0, 3.0]],
        "inf": [[inf, 1.0], [2.0, 3.0]],
    }
    norm_cases = [
        ("random", 1.0, 2.0), ("random", 10.0, 2.0), ("random", 0.5, 1.0),
        ("random", 0.5, inf), ("random", 0.5, 3.0), ("random", 0.5, 0.0),
        ("random", 0.01, -inf), ("random", 0.5, 0.5),
        ("with_missing_and_zero", 1.0, 2.0), ("with_missing_and_zero", 1.0, inf),
        ("with_missing_and_zero", 1.0, 0.0), ("with_missing_and_zero", 1.0, -inf),
        ("with_missing_and_zero", 1.0, -1.0),
        ("nan", 1.0, 2.0), ("nan", 1.0, inf), ("inf", 1.0, 2.0),
    ]
    value_cases = [("random", 0.5), ("with_missing_and_zero", 2.5), ("nan", 1.5), ("random", -0.25)]
    cases = []
    for set_name, max_norm, norm_type in norm_cases:
        for dtype in DTYPES:
            params = clip_parameters(grad_sets[set_name], dtype)
            grads_in = grads_json(params)
            total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
            cases.append({"name": f"clip_grad_norm_/{set_name}/max_norm={max_norm}/norm_type={norm_type}/"
                                  f"{DTYPE_NAMES[dtype]}",
                          "fn": "clip_grad_norm_", "dtype": DTYPE_NAMES[dtype],
                          "max_norm": max_norm, "norm_type": float_to_json(norm_type),
                          "grads": grads_in, "total_norm": float_to_json(total.item()),
                          "clipped": grads_json(params)})
    for set_name, clip_value in value_cases:
        for dtype in DTYPES:
            params = clip_parameters(grad_sets[set_name], dtype)
            grads_in = grads_json(params)
            torch.nn.utils.clip_grad_value_(params, clip_value)
            cases.append({"name": f"clip_grad_value_/{set_name}/clip_value={clip_value}/{DTYPE_NAMES[dtype]}",
                          "fn": "clip_grad_value_", "dtype": DTYPE_NAMES[dtype],
                          "clip_value": clip_value, "grads": grads_in, "clipped": grads_json(params)})
    return {"cases": cases}


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}")
    write_json("optim.json", optim_fixture())
    write_json("clip_grad.json", clip_cases())


if __name__ == "__main__":
    main()
