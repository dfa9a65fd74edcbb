#!/usr/bin/python3
"""Generate PyTorch golden fixtures for xgrad's recurrent layers, cells and packed sequences.

Run from the repository root with Debian's PyTorch (python3-torch, 1.13):

    /usr/bin/python3 tests/golden/make_golden_rnn.py

It (re)writes rnn.json next to this script. Output is deterministic. Each case sets every
parameter of a PyTorch module (listed as named_parameters() lists them), runs it on an input and
an initial state (or none), and backpropagates random upstream gradients given on the output and
on every final state at once. Recorded: output, final states, the gradients of the input and the
initial states, and every parameter's gradient. Kinds:

  layer   nn.RNN / nn.LSTM / nn.GRU on a padded (or unbatched) input
  cell    nn.RNNCell / nn.LSTMCell / nn.GRUCell, one step
  npz     an nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=True) whose state_dict is
          written by numpy.savez to npz/lstm_state_dict.npz, an input and PyTorch's output, h_n, c_n
  packed  a layer on pack_padded_sequence(input, lengths, batch_first, enforce_sorted=False) with
          unsorted lengths: the packed output's data, the output padded again, the final states
          (in the original batch order) and the gradients of the padded input
"""

import io
import os
import sys
import zipfile
import zlib

import numpy as np

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import SEED, tensor_to_json, upstream_like, write_json  # noqa: E402
from make_golden_npz import write_zip  # noqa: E402

F64 = torch.float64
DTYPES = (torch.float32, torch.float64)
DTYPE_NAMES = {torch.float32: "float32", torch.float64: "float64"}


def seeded_randn(key, *shape):
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    return torch.randn(*shape, generator=gen, dtype=F64)


def module_for(kind, options):
    o = dict(options)
    if kind == "RNN":
        return nn.RNN(o["input_size"], o["hidden_size"], num_layers=o["num_layers"], nonlinearity=o["nonlinearity"],
                      bias=o["bias"], batch_first=o["batch_first"], bidirectional=o["bidirectional"])
    if kind == "LSTM":
        return nn.LSTM(o["input_size"], o["hidden_size"], num_layers=o["num_layers"], bias=o["bias"],
                       batch_first=o["batch_first"], bidirectional=o["bidirectional"], proj_size=o["proj_size"])
    if kind == "GRU":
        return nn.GRU(o["input_size"], o["hidden_size"], num_layers=o["num_layers"], bias=o["bias"],
                      batch_first=o["batch_first"], bidirectional=o["bidirectional"])
    if kind == "RNNCell":
        return nn.RNNCell(o["input_size"], o["hidden_size"], bias=o["bias"], nonlinearity=o["nonlinearity"])
    if kind == "LSTMCell":
        return nn.LSTMCell(o["input_size"], o["hidden_size"], bias=o["bias"])
    return nn.GRUCell(o["input_size"], o["hidden_size"], bias=o["bias"])


def full_options(options):
    defaults = {"num_layers": 1, "bias": True, "batch_first": False, "bidirectional": False, "proj_size": 0,
                "nonlinearity": "tanh"}
    defaults.update(options)
    return defaults


def set_parameters(module, name, dtype):
    """Parameters drawn per case (not by PyTorch's initialiser), in the module's dtype."""
    module.to(dtype)
    with torch.no_grad():
        for pname, p in module.named_parameters():
            p.copy_(seeded_randn(f"{name}/{pname}", *p.shape) * 0.5)
    return [(pname, p) for pname, p in module.named_parameters()]


def leaf(t, dtype):
    return None if t is None else t.to(dtype).clone().requires_grad_(True)


def grad_of(t):
    return None if t is None or t.grad is None else tensor_to_json(t.grad)


def maybe(t):
    return None if t is None else tensor_to_json(t)


def run_case(fn, kind, variant, options, input_shape, hx_shapes, lengths=None):
    options = full_options(options)
    cases = []
    for dtype in DTYPES:
        base = f"{fn}/{kind}/{variant}"
        module = module_for(kind, options)
        params = set_parameters(module, base, dtype)
        x = leaf(seeded_randn(base + "/input", *input_shape), dtype)
        states = [leaf(seeded_randn(f"{base}/state{i}", *shape) * 0.5, dtype) for i, shape in enumerate(hx_shapes)]
        hx = None
        if states:
            hx = tuple(states) if kind in ("LSTM", "LSTMCell") else states[0]

        case = {"name": f"{base}/{DTYPE_NAMES[dtype]}", "fn": fn, "module": kind, "dtype": DTYPE_NAMES[dtype],
                "options": options, "params": [[n, tensor_to_json(p.detach())] for n, p in params],
                "input": tensor_to_json(x.detach()), "states": [tensor_to_json(s.detach()) for s in states]}
        if fn == "packed":
            packed = pack_padded_sequence(x, torch.tensor(lengths), batch_first=options["batch_first"],
                                          enforce_sorted=False)
            out_packed, final = module(packed, hx)
            output = out_packed.data
            padded, out_lengths = pad_packed_sequence(out_packed, batch_first=options["batch_first"])
            case["lengths"] = lengths
            case["packed_input"] = tensor_to_json(packed.data.detach())
            case["batch_sizes"] = tensor_to_json(packed.batch_sizes)
            case["sorted_indices"] = tensor_to_json(packed.sorted_indices)
            case["padded_output"] = tensor_to_json(padded.detach())
            case["padded_lengths"] = tensor_to_json(out_lengths)
            final = final if isinstance(final, tuple) else (final,)
        elif kind == "LSTMCell":
            output, c_next = module(x, hx)
            final = (c_next,)   # (h', c'): h' is the output, c' the one final state
        elif kind in ("RNNCell", "GRUCell"):
            output, final = module(x, hx), ()
        else:
            output, final = module(x, hx)
            final = final if isinstance(final, tuple) else (final,)
        ups = [upstream_like(output, base + "/up_output")] + \
              [upstream_like(f, f"{base}/up_final{i}") for i, f in enumerate(final)]
        loss = (output * ups[0]).sum() + sum((f * u).sum() for f, u in zip(final, ups[1:]))
        loss.backward()
        case.update({
            "output": tensor_to_json(output.detach()),
            "finals": [tensor_to_json(f.detach()) for f in final],
            "upstream": [tensor_to_json(u) for u in ups],
            "grad_input": grad_of(x),
            "grad_states": [grad_of(s) for s in states],
            "param_grads": [[n, tensor_to_json(p.grad)] for n, p in params],
        })
        cases.append(case)
    return cases


def layer_cases():
    c = []
    c += run_case("layer", "RNN", "tanh", {"input_size": 3, "hidden_size": 4}, (5, 2, 3), [(1, 2, 4)])
    c += run_case("layer", "RNN", "relu/2layers/no_state", {"input_size": 3, "hidden_size": 4, "num_layers": 2,
                                                            "nonlinearity": "relu"}, (4, 3, 3), [])
    c += run_case("layer", "RNN", "tanh/bidirectional/batch_first/no_bias",
                  {"input_size": 3, "hidden_size": 4, "bidirectional": True, "batch_first": True, "bias": False},
                  (2, 5, 3), [(2, 2, 4)])
    c += run_case("layer", "LSTM", "plain", {"input_size": 3, "hidden_size": 5}, (6, 2, 3), [(1, 2, 5), (1, 2, 5)])
    c += run_case("layer", "LSTM", "2layers/batch_first/no_state",
                  {"input_size": 4, "hidden_size": 5, "num_layers": 2, "batch_first": True}, (3, 5, 4), [])
    c += run_case("layer", "LSTM", "bidirectional/2layers",
                  {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}, (4, 2, 3),
                  [(4, 2, 4), (4, 2, 4)])
    c += run_case("layer", "LSTM", "proj_size/bidirectional/2layers",
                  {"input_size": 3, "hidden_size": 5, "num_layers": 2, "bidirectional": True, "proj_size": 2},
                  (4, 3, 3), [(4, 3, 2), (4, 3, 5)])
    c += run_case("layer", "LSTM", "unbatched", {"input_size": 3, "hidden_size": 4}, (5, 3), [(1, 4), (1, 4)])
    c += run_case("layer", "GRU", "plain", {"input_size": 3, "hidden_size": 4}, (5, 2, 3), [(1, 2, 4)])
    c += run_case("layer", "GRU", "2layers/bidirectional/batch_first",
                  {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True, "batch_first": True},
                  (2, 4, 3), [(4, 2, 4)])
    c += run_case("layer", "GRU", "unbatched/no_state", {"input_size": 3, "hidden_size": 4}, (5, 3), [])
    return c


def cell_cases():
    c = []
    c += run_case("cell", "RNNCell", "tanh", {"input_size": 3, "hidden_size": 4}, (2, 3), [(2, 4)])
    c += run_case("cell", "RNNCell", "relu/no_state", {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu"},
                  (2, 3), [])
    c += run_case("cell", "LSTMCell", "plain", {"input_size": 3, "hidden_size": 4}, (2, 3), [(2, 4), (2, 4)])
    c += run_case("cell", "LSTMCell", "unbatched/no_bias", {"input_size": 3, "hidden_size": 4, "bias": False},
                  (3,), [(4,), (4,)])
    c += run_case("cell", "GRUCell", "plain", {"input_size": 3, "hidden_size": 4}, (2, 3), [(2, 4)])
    c += run_case("cell", "GRUCell", "unbatched/no_state", {"input_size": 3, "hidden_size": 4}, (3,), [])
    return c


def packed_cases():
    c = []
    c += run_case("packed", "LSTM", "unsorted/bidirectional/2layers",
                  {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True}, (5, 4, 3),
                  [(4, 4, 4), (4, 4, 4)], lengths=[3, 5, 1, 4])
    c += run_case("packed", "GRU", "unsorted/batch_first", {"input_size": 3, "hidden_size": 4, "batch_first": True},
                  (3, 4, 3), [(1, 3, 4)], lengths=[2, 4, 3])
    c += run_case("packed", "RNN", "unsorted/bidirectional/no_state",
                  {"input_size": 3, "hidden_size": 4, "bidirectional": True}, (4, 3, 3), [], lengths=[1, 4, 2])
    return c


def npz_case():
    """A state_dict as numpy.savez writes it (member dates fixed, so the file is reproducible)."""
    torch.manual_seed(SEED)
    module = nn.LSTM(4, 6, num_layers=2, proj_size=3, bidirectional=True)
    buffer = io.BytesIO()
    np.savez(buffer, **{name: t.detach().numpy() for name, t in module.state_dict().items()})
    buffer.seek(0)
    with zipfile.ZipFile(buffer) as source:
        members = [(info.filename, source.read(info.filename)) for info in source.infolist()]
    write_zip("lstm_state_dict.npz", members)
    x = seeded_randn("npz/input", 5, 2, 4).float()
    with torch.no_grad():
        output, (h_n, c_n) = module(x)
    return [{"name": "npz/LSTM", "fn": "npz", "file": "npz/lstm_state_dict.npz", "input": tensor_to_json(x),
             "output": tensor_to_json(output), "finals": [tensor_to_json(h_n), tensor_to_json(c_n)]}]


def main():
    torch.manual_seed(SEED)
    cases = layer_cases() + cell_cases() + packed_cases() + npz_case()
    write_json(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rnn.json"),
               {"generator": "make_golden_rnn.py", "torch": torch.__version__, "cases": cases})


if __name__ == "__main__":
    main()
