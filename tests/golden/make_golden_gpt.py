#!/usr/bin/python3
"""Generate the end-to-end GPT check, in the manner of llm.c's test_gpt2.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_gpt.py

A small decoder-only transformer as nanoGPT writes it (token and position
embeddings, pre-LayerNorm blocks of causal self-attention and a GELU MLP, a
final LayerNorm, a linear head) is built in PyTorch with 2 layers, 4 heads,
width 64 and context 32, in float32. The files it writes:

    gpt/weights.npz    the initial parameters, named as examples/char_gpt's
                       model names them ("h.0.attn.c_attn.weight", ...)
    gpt/grads.npz      each parameter's gradient of the first loss, under the
                       parameter's name
    gpt.json           the configuration, the batch (idx, targets), the
                       logits and loss of the first forward, and the loss of
                       each of ten AdamW steps (nanoGPT's parameter groups:
                       weight decay for matrices only; gradients clipped to
                       norm 1 before each step)

The C++ test loads weights.npz into the same model built from xgrad's modules
and must reproduce all of it.
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT_DIR = os.path.dirname(os.path.abspath(__file__))

CONFIG = {"vocab_size": 64, "block_size": 32, "n_layer": 2, "n_head": 4, "n_embd": 64}
BATCH = 4
STEPS = 10
ADAMW = {"lr": 1e-3, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 0.1}
CLIP = 1.0


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n_head = c["n_head"]
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"])
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"])

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        heads = lambda t: t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        # PyTorch 2.0's scaled_dot_product_attention(q, k, v, is_causal=True), written out.
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        scores = scores.masked_fill(~causal, float("-inf"))
        y = F.softmax(scores, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"])
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"])
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"])
        self.mlp = MLP(c)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["block_size"], c["n_embd"])
        self.h = nn.ModuleList([Block(c) for _ in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"])
        self.lm_head = nn.Linear(c["n_embd"], c["vocab_size"], bias=False)
        # nanoGPT's initialisation, so the fixture's weights look like a real model's.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c["n_layer"]))
            elif p.dim() == 2:
                nn.init.normal_(p, 0.0, 0.02)
            elif name.endswith(".bias") and "ln" not in name:
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


def as_json(t, dtype):
    """A tensor in tests/golden/README.md's format."""
    return {"shape": list(t.shape), "dtype": dtype, "data": t.reshape(-1).tolist()}


def savez(name, arrays):
    os.makedirs(os.path.join(OUT_DIR, "gpt"), exist_ok=True)
    np.savez(os.path.join(OUT_DIR, "gpt", name), **arrays)


def main():
    torch.manual_seed(1234)
    model = GPT(CONFIG)
    idx = torch.randint(0, CONFIG["vocab_size"], (BATCH, CONFIG["block_size"]))
    targets = torch.randint(0, CONFIG["vocab_size"], (BATCH, CONFIG["block_size"]))
    savez("weights.npz", {n: p.detach().numpy() for n, p in model.named_parameters()})

    logits, loss = model(idx, targets)
    loss.backward()
    savez("grads.npz", {n: p.grad.numpy() for n, p in model.named_parameters()})

    params = list(model.named_parameters())
    groups = [{"params": [p for _, p in params if p.dim() >= 2], "weight_decay": ADAMW["weight_decay"]},
              {"params": [p for _, p in params if p.dim() < 2], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=ADAMW["lr"], betas=ADAMW["betas"], eps=ADAMW["eps"])
    step_losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        _, step_loss = model(idx, targets)
        step_loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        opt.step()
        step_losses.append(step_loss.item())

    fixture = {
        "config": CONFIG,
        "adamw": ADAMW,
        "clip": CLIP,
        "idx": as_json(idx, "int64"),
        "targets": as_json(targets, "int64"),
        "logits": as_json(logits.detach(), "float32"),
        "loss": loss.item(),
        "step_losses": step_losses,
    }
    path = os.path.join(OUT_DIR, "gpt.json")
    with open(path, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}; loss {loss.item():.6f}, after {STEPS} steps {step_losses[-1]:.6f}")


if __name__ == "__main__":
    main()
