#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's learning-rate schedulers.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_schedulers.py

It (re)writes schedulers.json next to this script:

    schedules     the groups' learning rates (and momentum or beta1, where the
                  scheduler cycles it) after the constructor and after each
                  step() of LambdaLR, MultiplicativeLR, ExponentialLR,
                  CosineAnnealingLR, LinearLR, SequentialLR, OneCycleLR, StepLR
    plateaus      ReduceLROnPlateau: rates, best, num_bad_epochs and
                  cooldown_counter after each step(metric)
    trajectories  training runs on optim.json's tiny MLP with a scheduler:
                  OneCycleLR cycling Adam's beta1 and SGD's momentum, and AdamW
                  with nanoGPT's parameter groups (weight decay for the
                  matrices only) with and without a warm-up and cosine schedule

Output is deterministic (fixed seeds). Each scheduler is described by a JSON
object: {"type": class name, its arguments by Python's names}; LambdaLR and
MultiplicativeLR name their function by the Python expression in LAMBDAS,
which the C++ test repeats.
"""

import math
import os
import sys
import warnings

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import float_to_json, tensor_to_json, write_json  # noqa: E402
from make_golden_optim import DEFAULTS, DTYPE_NAMES, DTYPES, Problem, make_optimizer, options_json, state_json  # noqa: E402,E501

# The functions of LambdaLR and MultiplicativeLR, by the expression the fixture names them with.
LAMBDAS = {
    "0.95 ** epoch": lambda epoch: 0.95 ** epoch,
    "1 / (epoch + 1)": lambda epoch: 1 / (epoch + 1),
    "min(1.0, (epoch + 1) / 4)": lambda epoch: min(1.0, (epoch + 1) / 4),
    "0.9 if epoch % 2 else 0.99": lambda epoch: 0.9 if epoch % 2 else 0.99,
    "1.0 - 0.05 * epoch": lambda epoch: 1.0 - 0.05 * epoch,
}


def make_scheduler(spec, opt):
    """The scheduler a fixture object describes."""
    kind = spec["type"]
    args = {k: v for k, v in spec.items() if k != "type"}
    if kind in ("LambdaLR", "MultiplicativeLR"):
        if "lr_lambda" in args:
            args["lr_lambda"] = LAMBDAS[args["lr_lambda"]]
        else:
            args["lr_lambda"] = [LAMBDAS[name] for name in args.pop("lr_lambdas")]
    if kind == "SequentialLR":
        args["schedulers"] = [make_scheduler(inner, opt) for inner in args["schedulers"]]
    return getattr(lr_scheduler, kind)(opt, **args)


# ---- schedules: rates only ---------------------------------------------------------------------

SCHEDULES = [
    # (optimizer, its options, each group's lr, scheduler, steps)
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "LambdaLR", "lr_lambda": "0.95 ** epoch"}, 8),
    ("SGD", {"lr": 0.1}, [0.1, 0.03],
     {"type": "LambdaLR", "lr_lambdas": ["1 / (epoch + 1)", "min(1.0, (epoch + 1) / 4)"]}, 8),
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "MultiplicativeLR", "lr_lambda": "0.9 if epoch % 2 else 0.99"}, 8),
    ("SGD", {"lr": 0.1}, [0.1, 0.03],
     {"type": "MultiplicativeLR", "lr_lambdas": ["0.9 if epoch % 2 else 0.99", "1.0 - 0.05 * epoch"]}, 8),
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "ExponentialLR", "gamma": 0.9}, 8),
    ("SGD", {"lr": 0.1}, [0.1], {"type": "StepLR", "step_size": 3}, 8),
    # Past T_max and through the trough twice (epochs 11 and 31 take Python's trough branch).
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "CosineAnnealingLR", "T_max": 10}, 35),
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "CosineAnnealingLR", "T_max": 7, "eta_min": 0.001}, 20),
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "LinearLR"}, 8),
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "LinearLR", "start_factor": 1.0, "end_factor": 0.25,
                                       "total_iters": 4}, 7),
    ("SGD", {"lr": 0.1}, [0.1, 0.03], {"type": "LinearLR", "start_factor": 0.1, "end_factor": 0.0,
                                       "total_iters": 6}, 8),
    # nanoGPT's shape: a linear warm-up, then cosine decay to a floor.
    ("AdamW", {"lr": 6e-4}, [6e-4, 6e-4],
     {"type": "SequentialLR", "milestones": [5],
      "schedulers": [{"type": "LinearLR", "start_factor": 0.01, "total_iters": 5},
                     {"type": "CosineAnnealingLR", "T_max": 15, "eta_min": 6e-5}]}, 24),
    # Later schedulers restart at epoch 0: ExponentialLR from its closed form, LambdaLR and
    # MultiplicativeLR (none) from get_lr, the latter from the rate the former left.
    ("SGD", {"lr": 0.1}, [0.1, 0.03],
     {"type": "SequentialLR", "milestones": [2, 5, 7],
      "schedulers": [{"type": "ExponentialLR", "gamma": 0.5},
                     {"type": "LambdaLR", "lr_lambda": "1 / (epoch + 1)"},
                     {"type": "MultiplicativeLR", "lr_lambda": "0.9 if epoch % 2 else 0.99"},
                     {"type": "StepLR", "step_size": 2, "gamma": 0.5}]}, 12),
    ("SGD", {"lr": 0.1}, [0.1],
     {"type": "SequentialLR", "milestones": [3],
      "schedulers": [{"type": "CosineAnnealingLR", "T_max": 3, "eta_min": 0.01},
                     {"type": "LinearLR", "start_factor": 0.5, "total_iters": 3}]}, 9),
    ("SGD", {"lr": 0.1, "momentum": 0.9}, [0.1], {"type": "OneCycleLR", "max_lr": 0.5, "total_steps": 20}, 20),
    ("Adam", {"lr": 0.01}, [0.01, 0.02],
     {"type": "OneCycleLR", "max_lr": [0.1, 0.05], "total_steps": 16, "pct_start": 0.25,
      "anneal_strategy": "linear", "three_phase": True, "div_factor": 10.0, "final_div_factor": 100.0,
      "base_momentum": 0.8, "max_momentum": 0.9}, 16),
    ("RMSprop", {"lr": 0.01}, [0.01], {"type": "OneCycleLR", "max_lr": 0.2, "total_steps": 12,
                                       "three_phase": True}, 12),
    ("Adagrad", {"lr": 0.01}, [0.01, 0.02], {"type": "OneCycleLR", "max_lr": 0.3, "total_steps": 9,
                                             "cycle_momentum": False, "pct_start": 0.5}, 9),
]


def momentum_of(group):
    if "betas" in group:
        return group["betas"][0]
    return group.get("momentum")


def schedule_case(optimizer, options, group_lrs, spec, steps):
    params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in group_lrs]
    full = {**DEFAULTS[optimizer], **options}
    opt = make_optimizer(optimizer, [{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)], full)
    scheduler = make_scheduler(spec, opt)
    cycles = spec["type"] == "OneCycleLR" and spec.get("cycle_momentum", True)
    lrs = [[g["lr"] for g in opt.param_groups]]
    momenta = [[momentum_of(g) for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        scheduler.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        momenta.append([momentum_of(g) for g in opt.param_groups])
        assert scheduler.get_last_lr() == lrs[-1]
    case = {"optimizer": optimizer, "options": options_json(full), "group_lrs": group_lrs,
            "scheduler": spec, "lrs": lrs}
    if cycles:
        case["momenta"] = momenta
    return case


# ---- ReduceLROnPlateau -------------------------------------------------------------------------

PLATEAUS = [
    # (each group's lr, arguments, metrics)
    ([0.1, 0.01], {"factor": 0.5, "patience": 2, "min_lr": [0.0, 0.004]},
     [1.0, 0.9, 0.95, 0.92, 0.91, 0.9, 0.85, 0.86, 0.87, 0.88, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]),
    ([0.1], {"mode": "max", "threshold_mode": "abs", "threshold": 0.05, "patience": 1, "cooldown": 2},
     [0.5, 0.52, 0.6, 0.61, 0.62, 0.63, 0.7, 0.71, 0.72, 0.73, 0.74, 0.75]),
    ([0.1, 0.05], {"patience": 0, "factor": 0.3, "min_lr": 0.01, "eps": 0.004},
     [3.0, 3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.0, 1.0]),
    ([0.1], {"mode": "min", "threshold_mode": "abs", "threshold": 0.1, "patience": 1},
     [1.0, 0.95, 0.85, 0.8, 0.79, 0.6, 0.61, 0.62]),
    ([0.1], {"mode": "max", "threshold": 0.1, "patience": 1, "cooldown": 1},
     [1.0, 1.05, 1.2, 1.25, 1.3, 1.5, 1.5, 1.5, 1.5]),
    # The defaults: patience 10, factor 0.1.
    ([0.1], {}, [1.0] * 14),
]


def plateau_case(group_lrs, args, metrics):
    params = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in group_lrs]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, group_lrs)], lr=0.1)
    scheduler = lr_scheduler.ReduceLROnPlateau(opt, **args)
    lrs, best, bad, cooldown, epochs = [], [], [], [], []
    for metric in metrics:
        scheduler.step(metric)
        lrs.append([g["lr"] for g in opt.param_groups])
        best.append(float_to_json(scheduler.best))
        bad.append(scheduler.num_bad_epochs)
        cooldown.append(scheduler.cooldown_counter)
        epochs.append(scheduler.last_epoch)
    return {"group_lrs": group_lrs, "args": args, "metrics": metrics, "lrs": lrs, "best": best,
            "num_bad_epochs": bad, "cooldown_counter": cooldown, "last_epoch": epochs}


# ---- trajectories ------------------------------------------------------------------------------

NANOGPT_GROUPS = "nanoGPT"

TRAJECTORIES = [
    # (optimizer, options, groups (params and option overrides) or NANOGPT_GROUPS, scheduler, steps)
    ("Adam", {"lr": 0.01},
     [{"params": ["0.weight", "0.bias"], "options": {}},
      {"params": ["2.weight", "2.bias"], "options": {"lr": 0.02, "betas": (0.9, 0.99)}}],
     {"type": "OneCycleLR", "max_lr": [0.05, 0.1], "total_steps": 8, "pct_start": 0.25}, 8),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True},
     [{"params": ["0.weight", "0.bias", "2.weight", "2.bias"], "options": {}}],
     {"type": "OneCycleLR", "max_lr": 0.5, "total_steps": 7, "anneal_strategy": "linear"}, 7),
    # nanoGPT's configure_optimizers: AdamW, betas (0.9, 0.95), weight decay for dim >= 2 only.
    ("AdamW", {"lr": 0.01, "betas": (0.9, 0.95), "weight_decay": 0.1}, NANOGPT_GROUPS, None, 6),
    ("AdamW", {"lr": 0.01, "betas": (0.9, 0.95), "weight_decay": 0.1}, NANOGPT_GROUPS,
     {"type": "SequentialLR", "milestones": [3],
      "schedulers": [{"type": "LinearLR", "start_factor": 0.1, "total_iters": 3},
                     {"type": "CosineAnnealingLR", "T_max": 5, "eta_min": 0.001}]}, 8),
]


def nanogpt_groups(named, weight_decay):
    """nanoGPT's rule: every parameter of dim >= 2 decays, the others (biases, norms) do not."""
    decay = [name for name, p in named.items() if p.dim() >= 2]
    no_decay = [name for name, p in named.items() if p.dim() < 2]
    return [{"params": decay, "options": {"weight_decay": weight_decay}},
            {"params": no_decay, "options": {"weight_decay": 0.0}}]


def trajectory_case(problem, dtype, optimizer, options, groups, spec, steps):
    full = {**DEFAULTS[optimizer], **options}
    model = problem.model(dtype)
    named = dict(model.named_parameters())
    if groups == NANOGPT_GROUPS:
        groups = nanogpt_groups(named, full["weight_decay"])
    opt = make_optimizer(optimizer, [{"params": [named[p] for p in g["params"]], **g["options"]} for g in groups],
                         full)
    scheduler = make_scheduler(spec, opt) if spec is not None else None
    x = problem.x.to(dtype)
    losses, params, lrs = [], [], []
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), problem.y)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(float_to_json(loss.item()))
        params.append({k: tensor_to_json(v) for k, v in model.named_parameters()})
        lrs.append([g["lr"] for g in opt.param_groups])
    return {"optimizer": optimizer, "dtype": DTYPE_NAMES[dtype], "options": options_json(full),
            "groups": [{"params": g["params"], "options": options_json(g["options"])} for g in groups],
            "scheduler": spec, "losses": losses, "params": params, "lrs": lrs, "state": state_json(opt)}


def schedulers_fixture():
    problem = Problem()
    return {
        "model": "Sequential(Linear(2,4), ReLU(), Linear(4,3)), as optim.json's",
        "loss": "cross_entropy(model(x), y, reduction='mean')",
        "init": {k: tensor_to_json(v) for k, v in problem.init.items()},
        "x": tensor_to_json(problem.x),
        "y": tensor_to_json(problem.y),
        "schedules": [schedule_case(*case) for case in SCHEDULES],
        "plateaus": [plateau_case(*case) for case in PLATEAUS],
        "trajectories": [trajectory_case(problem, dtype, *case) for case in TRAJECTORIES for dtype in DTYPES],
    }


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    # The schedules step the scheduler after an optimiser step that has no gradients to apply;
    # PyTorch's warnings about the order of the two calls do not apply.
    warnings.simplefilter("ignore")
    print(f"torch {torch.__version__}")
    write_json("schedulers.json", schedulers_fixture())


if __name__ == "__main__":
    assert math.pi == 3.141592653589793
    main()
