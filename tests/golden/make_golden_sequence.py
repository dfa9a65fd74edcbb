#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's ops for sequences.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_sequence.py

It (re)writes sequence.json next to this script: bmm, baddbmm, matmul with
broadcast batch dimensions, tril, triu, sort, topk, argsort, cumsum, cumprod,
flip, roll, repeat, repeat_interleave, F.pad (constant), F.normalize,
F.cosine_similarity, einsum and F.one_hot. Differentiable cases exist in
float32 and float64 with a random upstream; see README.md for the format.

Every differentiable case is one call

    output = CALLS[fn](inputs, **options)
    output.backward(upstream)

and each `add(...)` line below shows the inputs and options used.
"""

import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, UniqueCases, tensor_to_json, upstream_like, write_json  # noqa: E402

F64 = torch.float64
DTYPES = (torch.float32, torch.float64)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


def first(pair):
    """sort and topk return (values, indices); the values are the output."""
    return pair[0]


# inputs is the list of floating tensors (each gets a gradient); everything
# else is an option. Options that are tensors (repeats) are int64.
CALLS = {
    "bmm": lambda inputs: torch.bmm(inputs[0], inputs[1]),
    "baddbmm": lambda inputs, beta, alpha: torch.baddbmm(inputs[0], inputs[1], inputs[2], beta=beta, alpha=alpha),
    "matmul": lambda inputs: torch.matmul(inputs[0], inputs[1]),
    "tril": lambda inputs, diagonal: torch.tril(inputs[0], diagonal),
    "triu": lambda inputs, diagonal: torch.triu(inputs[0], diagonal),
    "sort": lambda inputs, dim, descending: first(torch.sort(inputs[0], dim=dim, descending=descending)),
    "sort_stable": lambda inputs, dim, descending: first(
        torch.sort(inputs[0], stable=True, dim=dim, descending=descending)),
    "topk": lambda inputs, k, dim, largest: first(torch.topk(inputs[0], k, dim=dim, largest=largest)),
    "cumsum": lambda inputs, dim: torch.cumsum(inputs[0], dim),
    "cumprod": lambda inputs, dim: torch.cumprod(inputs[0], dim),
    "flip": lambda inputs, dims: torch.flip(inputs[0], dims),
    "roll": lambda inputs, shifts, dims=None: (torch.roll(inputs[0], shifts) if dims is None
                                               else torch.roll(inputs[0], shifts, dims)),
    "repeat": lambda inputs, repeats: inputs[0].repeat(repeats),
    "repeat_interleave": lambda inputs, repeats, dim=None: torch.repeat_interleave(inputs[0], repeats, dim),
    "pad": lambda inputs, pad, value: F.pad(inputs[0], pad, mode="constant", value=value),
    "normalize": lambda inputs, p, dim, eps: F.normalize(inputs[0], p=p, dim=dim, eps=eps),
    "cosine_similarity": lambda inputs, dim, eps: F.cosine_similarity(inputs[0], inputs[1], dim=dim, eps=eps),
    "einsum": lambda inputs, equation: torch.einsum(equation, *inputs),
}

# The ops that also return int64 indices, recorded as "indices".
INDICES = {
    "sort": lambda inputs, dim, descending: torch.sort(inputs[0], dim=dim, descending=descending)[1],
    "sort_stable": lambda inputs, dim, descending: torch.sort(inputs[0], stable=True, dim=dim,
                                                              descending=descending)[1],
    "topk": lambda inputs, k, dim, largest: torch.topk(inputs[0], k, dim=dim, largest=largest)[1],
}


def randn(*shape):
    return torch.randn(*shape, dtype=F64)


def long(values):
    return torch.tensor(values, dtype=torch.int64)


def option_to_json(value):
    if torch.is_tensor(value):
        return tensor_to_json(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def make_case(fn, variant, dtype, inputs, options):
    base_name = f"{fn}/{variant}"
    leaves = [x.to(dtype).clone().requires_grad_(True) for x in inputs]
    out = CALLS[fn](leaves, **options)
    up = upstream_like(out, base_name)
    out.backward(up)
    case = {
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
    if fn in INDICES:
        with torch.no_grad():
            case["indices"] = tensor_to_json(INDICES[fn]([x.detach() for x in leaves], **options))
    return case


class CaseList(UniqueCases):
    def add(self, fn, variant, inputs, **options):
        """Add the float32 and the float64 version of one case."""
        for dtype in DTYPES:
            self.append(make_case(fn, variant, dtype, inputs, options))

    def add_plain(self, fn, variant, inputs, output, **options):
        """A case without gradients: integer inputs and outputs (argsort, one_hot)."""
        self.append({
            "name": f"{fn}/{variant}",
            "fn": fn,
            "options": {k: option_to_json(v) for k, v in options.items()},
            "inputs": [tensor_to_json(x) for x in inputs],
            "output": tensor_to_json(output),
        })


def products(cl):
    cl.add("bmm", "2x3x4@2x4x5", [randn(2, 3, 4), randn(2, 4, 5)])
    cl.add("bmm", "3x1x4@3x4x2", [randn(3, 1, 4), randn(3, 4, 2)])
    cl.add("baddbmm", "self_2x3x5", [randn(2, 3, 5), randn(2, 3, 4), randn(2, 4, 5)], beta=1, alpha=1)
    cl.add("baddbmm", "self_3x5_broadcast/beta=0.5/alpha=2", [randn(3, 5), randn(2, 3, 4), randn(2, 4, 5)],
           beta=0.5, alpha=2.0)
    cl.add("baddbmm", "self_1x1x5/beta=0/alpha=-1", [randn(1, 1, 5), randn(2, 3, 4), randn(2, 4, 5)],
           beta=0.0, alpha=-1.0)
    for a, b in [((2, 3, 4), (4, 5)), ((2, 2, 3, 4), (2, 2, 4, 3)), ((2, 1, 3, 4), (3, 4, 3)),
                 ((3, 1, 2, 4), (2, 4, 3)), ((1, 3, 4), (2, 4, 5)), ((2, 3, 4), (1, 4, 5)),
                 ((4,), (2, 2, 4, 5)), ((2, 2, 3, 4), (4,)), ((3, 4), (2, 4, 5)), ((4,), (4, 5)),
                 ((3, 4), (2, 2, 4, 5))]:
        name = "x".join(map(str, a)) + "@" + "x".join(map(str, b))
        cl.add("matmul", name, [randn(*a), randn(*b)])


def masks(cl):
    x45, x234 = randn(4, 5), randn(2, 3, 4)
    for fn in ("tril", "triu"):
        for k in (0, 1, -2, 5, -5):
            cl.add(fn, f"4x5/diagonal={k}", [x45], diagonal=k)
        cl.add(fn, "2x3x4/diagonal=0", [x234], diagonal=0)


def orderings(cl):
    x35, x2x6 = randn(3, 5), randn(2, 3, 6)
    cl.add("sort", "3x5/dim=-1/ascending", [x35], dim=-1, descending=False)
    cl.add("sort", "3x5/dim=0/descending", [x35], dim=0, descending=True)
    cl.add("sort", "2x3x6/dim=1/ascending", [x2x6], dim=1, descending=False)
    ties = torch.tensor([[2.0, 1.0, 2.0, float("nan"), 1.0, 0.5], [3.0, 3.0, -1.0, 3.0, float("nan"), float("nan")]],
                        dtype=F64)
    cl.add("sort_stable", "ties_and_nan/dim=1/ascending", [ties], dim=1, descending=False)
    cl.add("sort_stable", "ties_and_nan/dim=1/descending", [ties], dim=1, descending=True)
    x46 = randn(4, 6)
    cl.add("topk", "4x6/k=2/dim=-1/largest", [x46], k=2, dim=-1, largest=True)
    cl.add("topk", "4x6/k=3/dim=0/smallest", [x46], k=3, dim=0, largest=False)
    cl.add("topk", "4x6/k=6/dim=1/largest", [x46], k=6, dim=1, largest=True)
    cl.add("topk", "2x3x6/k=1/dim=2/largest", [x2x6], k=1, dim=2, largest=True)
    nan_row = torch.tensor([[0.5, float("nan"), 2.0, -1.0]], dtype=F64)
    cl.add("topk", "nan_is_largest/k=2", [nan_row], k=2, dim=1, largest=True)
    cl.add("topk", "nan_is_largest/k=2/smallest", [nan_row], k=2, dim=1, largest=False)
    for dim, descending in ((1, False), (0, True)):
        values = randn(4, 5)
        cl.add_plain("argsort", f"4x5/dim={dim}/descending={descending}", [values],
                     torch.argsort(values, dim=dim, descending=descending), dim=dim, descending=descending)


def running_totals(cl):
    x34, x234 = randn(3, 4), randn(2, 3, 4)
    cl.add("cumsum", "3x4/dim=1", [x34], dim=1)
    cl.add("cumsum", "3x4/dim=0", [x34], dim=0)
    cl.add("cumsum", "2x3x4/dim=-2", [x234], dim=-2)
    cl.add("cumprod", "3x4/dim=1", [x34], dim=1)
    cl.add("cumprod", "2x3x4/dim=0", [x234], dim=0)
    zeros = torch.tensor([[1.5, 0.0, 2.0, -1.0], [0.0, 3.0, 0.0, 2.0], [2.0, -0.5, 1.5, 0.0]], dtype=F64)
    cl.add("cumprod", "zeros/dim=1", [zeros], dim=1)
    cl.add("cumprod", "zeros/dim=0", [zeros], dim=0)


def rearrangements(cl):
    x234, x34 = randn(2, 3, 4), randn(3, 4)
    cl.add("flip", "2x3x4/dims=0,2", [x234], dims=[0, 2])
    cl.add("flip", "2x3x4/dims=-1", [x234], dims=[-1])
    cl.add("flip", "3x4/dims=none", [x34], dims=[])
    cl.add("roll", "3x4/shift=1/dim=0", [x34], shifts=1, dims=0)
    cl.add("roll", "3x4/shifts=1,-2/dims=0,1", [x34], shifts=[1, -2], dims=[0, 1])
    cl.add("roll", "3x4/shift=5/flattened", [x34], shifts=5)
    cl.add("roll", "3x4/shifts=2,3/dims=1,1", [x34], shifts=[2, 3], dims=[1, 1])
    cl.add("roll", "2x3x4/shift=-7/dim=-1", [x234], shifts=-7, dims=-1)
    x23 = randn(2, 3)
    cl.add("repeat", "2x3/repeats=2,1", [x23], repeats=[2, 1])
    cl.add("repeat", "3/repeats=2,2", [randn(3)], repeats=[2, 2])
    cl.add("repeat", "2x3/repeats=1,2,2", [x23], repeats=[1, 2, 2])
    cl.add("repeat", "2x3/repeats=0,2", [x23], repeats=[0, 2])
    cl.add("repeat_interleave", "2x3/repeats=2/dim=0", [x23], repeats=2, dim=0)
    cl.add("repeat_interleave", "2x3/repeats=3/flattened", [x23], repeats=3)
    cl.add("repeat_interleave", "3x4/repeats=1,0,2/dim=0", [x34], repeats=long([1, 0, 2]), dim=0)
    cl.add("repeat_interleave", "2x3/repeats=2,1,3/dim=-1", [x23], repeats=long([2, 1, 3]), dim=-1)
    cl.add("repeat_interleave", "2x3/repeats=0-dim_2/dim=1", [x23], repeats=long(2), dim=1)


def padding_and_similarity(cl):
    x23, x234 = randn(2, 3), randn(2, 3, 4)
    cl.add("pad", "2x3/1,2", [x23], pad=[1, 2], value=0.0)
    cl.add("pad", "2x3x4/1,1,2,0/value=1.5", [x234], pad=[1, 1, 2, 0], value=1.5)
    cl.add("pad", "2x3x4/-1,2,0,0,1,-1", [x234], pad=[-1, 2, 0, 0, 1, -1], value=-2.0)
    x34 = randn(3, 4)
    x34[1] = 0.0
    cl.add("normalize", "3x4/p=2/dim=1/zero_row", [x34], p=2.0, dim=1, eps=1e-12)
    cl.add("normalize", "3x4/p=1/dim=0", [randn(3, 4)], p=1.0, dim=0, eps=1e-12)
    cl.add("normalize", "2x3x4/p=3/dim=-1/eps=0.5", [x234], p=3.0, dim=-1, eps=0.5)
    cl.add("cosine_similarity", "3x4/dim=1", [randn(3, 4), randn(3, 4)], dim=1, eps=1e-8)
    cl.add("cosine_similarity", "2x3x4_vs_1x4/dim=-1", [x234, randn(1, 4)], dim=-1, eps=1e-8)
    with_zero = randn(3, 4)
    with_zero[2] = 0.0
    cl.add("cosine_similarity", "zero_row/dim=1", [with_zero, randn(3, 4)], dim=1, eps=1e-8)
    cl.add("cosine_similarity", "3x4/dim=0/eps=0.5", [randn(3, 4) * 0.1, randn(3, 4)], dim=0, eps=0.5)


def einsums(cl):
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 5)
    cl.add("einsum", "bhqd,bhkd->bhqk", [q, k], equation="bhqd,bhkd->bhqk")
    cl.add("einsum", "bhqk,bhkd->bhqd", [randn(2, 3, 4, 6), v], equation="bhqk,bhkd->bhqd")
    cl.add("einsum", "ij,jk->ik", [randn(3, 4), randn(4, 5)], equation="ij,jk->ik")
    cl.add("einsum", "bi,bi->b", [randn(5, 3), randn(5, 3)], equation="bi,bi->b")
    cl.add("einsum", "ij,jk_implicit", [randn(3, 4), randn(4, 2)], equation="ij,jk")
    cl.add("einsum", "i,j->ij", [randn(4), randn(3)], equation="i,j->ij")
    cl.add("einsum", "ii->i", [randn(3, 3)], equation="ii->i")
    cl.add("einsum", "ij->", [randn(3, 4)], equation="ij->")
    cl.add("einsum", "ij->ji", [randn(3, 4)], equation="ij->ji")
    cl.add("einsum", "...ij,...jk->...ik", [randn(5, 2, 3), randn(3, 4)], equation="...ij,...jk->...ik")
    cl.add("einsum", "b...d,b...d->b...", [randn(2, 3, 4, 5), randn(2, 1, 4, 5)], equation="b...d,b...d->b...")
    cl.add("einsum", "bij,bjk->bki", [randn(2, 3, 4), randn(1, 4, 5)], equation="bij,bjk->bki")
    cl.add("einsum", "iij,jk->ik", [randn(3, 3, 4), randn(4, 2)], equation="iij,jk->ik")
    cl.add("einsum", "ij,jk,kl->il", [randn(2, 3), randn(3, 4), randn(4, 5)], equation="ij,jk,kl->il")
    cl.add("einsum", "Ab,bC->CA", [randn(2, 3), randn(3, 4)], equation="Ab,bC->CA")
    cl.add("einsum", "ij,kj->ikj_summed_k", [randn(2, 3), randn(4, 3)], equation="ij,kj->ij")


def encodings(cl):
    labels = long([[1, 3, 0], [2, 2, 4]])
    cl.add_plain("one_hot", "2x3/num_classes=-1", [labels], F.one_hot(labels), num_classes=-1)
    cl.add_plain("one_hot", "2x3/num_classes=7", [labels], F.one_hot(labels, 7), num_classes=7)
    cl.add_plain("one_hot", "0-dim/num_classes=3", [long(2)], F.one_hot(long(2), 3), num_classes=3)


def sequence_cases():
    torch.manual_seed(SEED)
    cl = CaseList()
    products(cl)
    masks(cl)
    orderings(cl)
    running_totals(cl)
    rearrangements(cl)
    padding_and_similarity(cl)
    einsums(cl)
    encodings(cl)
    return {"cases": cl.cases}


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}")
    write_json("sequence.json", sequence_cases())


if __name__ == "__main__":
    main()
