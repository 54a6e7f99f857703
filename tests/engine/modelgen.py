"""Random nn.Module programs for end-to-end tests of the analysis against torch.

A program is built step by step while torch (CPU, tiny tensors) tracks the real shape, so each
step is chosen to fit the shape it will see, except that now and then a step is made to fail
(wrong channels, too-large kernel, mismatched residual, bad view...).  Generation stops after
the first failing step, like the program would.  Every forward statement is ``hK = <expr>`` on
its own line, so the real shape of each line is read from forward's locals.
"""
from __future__ import annotations

import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HEADER = """import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
"""


class Program:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.init = []       # lines of __init__ (without indentation)
        self.forward = []    # lines of forward
        self.layers = {}     # attribute -> real module (for the generation-time run)
        self.k = 0

    def source(self, input_shape):
        lines = [HEADER]
        for line in self.init or ["pass"]:
            lines.append("        " + line + "\n")
        lines.append("\n    def forward(self, x):\n        h0 = x\n")
        for line in self.forward:
            lines.append("        " + line + "\n")
        lines.append("        return h%d\n\n\n" % self.k)
        lines.append("model = Net()\n")
        lines.append("x = torch.randn(%s)\n" % ", ".join(map(str, input_shape)))
        lines.append("y = model(x)\n")
        return "".join(lines)


def maybe_wrong(rng, value, p=0.12):
    """``value``, or now and then a nearby wrong one."""
    if rng.random() < p:
        return max(1, value + rng.choice([-2, -1, 1, 2, value]))
    return value


def step(prog: Program, h: torch.Tensor):
    """Add one statement; returns the new tensor, or None when the statement failed in torch
    (it is kept: the program ends there)."""
    rng = prog.rng
    shape = tuple(h.shape)
    rank = len(shape)
    prog.k += 1
    k = prog.k
    prev = "h%d" % (k - 1)
    choices = {4: STEPS_4D, 3: STEPS_3D, 2: STEPS_2D}.get(rank, STEPS_2D)
    make = rng.choice(choices)
    attr, module, expr = make(rng, shape, k, prev)
    ns = {"torch": torch, "nn": nn, "F": F}
    if module is not None:
        prog.init.append("self.%s = %s" % (attr, module))
        try:
            prog.layers[attr] = eval(module, ns)
        except Exception:
            prog.init.pop()
            prog.k -= 1
            return h  # a constructor error: not what these tests are about; try another step
    prog.forward.append("h%d = %s" % (k, expr))
    ns.update({"self": _Self(prog.layers), prev: h})
    try:
        with torch.no_grad():
            out = eval(expr, ns)
    except Exception:
        if runs_on_meta(prog, expr, prev, h):
            # torch's CPU and meta backends disagree (zero-size corner cases): not a behaviour
            # the analysis can be held to.  Drop the statement and try another.
            prog.forward.pop()
            if module is not None:
                prog.init.pop()
                del prog.layers[attr]
            prog.k -= 1
            return h
        return None
    if not isinstance(out, torch.Tensor):
        return None
    return out


def runs_on_meta(prog, expr, prev, h):
    import copy
    layers = {name: copy.deepcopy(m).to("meta") if isinstance(m, nn.Module) else
              nn.Parameter(m.detach().to("meta")) for name, m in prog.layers.items()}
    ns = {"torch": torch, "nn": nn, "F": F, "self": _Self(layers), prev: h.to("meta")}
    try:
        with torch.no_grad():
            eval(expr, ns)
        return True
    except Exception:
        return False


class _Self:
    def __init__(self, layers):
        self.__dict__.update(layers)


def conv2d(rng, s, k, prev):
    n, c, hh, ww = s
    cin = maybe_wrong(rng, c)
    groups = rng.choice([g for g in (1, 2, 4) if cin % g == 0])
    out = groups * rng.randint(1, 4)
    ks = rng.randint(1, 5)
    stride = rng.choice([1, 1, 2, 3])
    dil = rng.choice([1, 1, 2])
    pad = rng.choice([0, 1, 2, "'same'"]) if stride == 1 else rng.choice([0, 1, 2])
    if rng.random() < 0.5:
        mod = "nn.Conv2d(%d, %d, %d, stride=%d, padding=%s, dilation=%d, groups=%d)" % (
            cin, out, ks, stride, pad, dil, groups)
    else:
        mod = "nn.Conv2d(in_channels=%d, out_channels=%d, kernel_size=(%d, %d), stride=%d, " \
              "padding=%s)" % (cin, out, ks, rng.randint(1, 4), stride, pad)
    return "c%d" % k, mod, "self.c%d(%s)" % (k, prev)


def conv_transpose(rng, s, k, prev):
    c = maybe_wrong(rng, s[1])
    stride = rng.choice([1, 2])
    ks = rng.randint(1, 4)
    pad = rng.randint(0, max(0, ks - 1))
    outpad = rng.randint(0, stride - 1)
    # A size-0 output is backend-dependent in torch (accepted on some paths, rejected on
    # others): keep generated programs away from it.
    if any((d - 1) * stride - 2 * pad + (ks - 1) + outpad + 1 == 0 for d in s[2:]):
        pad = 0
    return "t%d" % k, "nn.ConvTranspose2d(%d, %d, %d, stride=%d, padding=%d, " \
        "output_padding=%d)" % (c, rng.randint(1, 6), ks, stride, pad, outpad), \
        "self.t%d(%s)" % (k, prev)


def pool(rng, s, k, prev):
    ks = rng.randint(1, 4)
    stride = rng.choice([None, 1, 2])
    pad = rng.randint(0, ks // 2 + (1 if rng.random() < 0.1 else 0))
    ceil = rng.choice([False, True])
    kind = rng.choice(["Max", "Avg"])
    if rng.random() < 0.5:
        return "p%d" % k, "nn.%sPool2d(%d, stride=%s, padding=%d, ceil_mode=%s)" % (
            kind, ks, stride, pad, ceil), "self.p%d(%s)" % (k, prev)
    fn = "F.max_pool2d" if kind == "Max" else "F.avg_pool2d"
    return None, None, "%s(%s, %d, stride=%s, padding=%d, ceil_mode=%s)" % (
        fn, prev, ks, stride, pad, ceil)


def adaptive(rng, s, k, prev):
    size = rng.choice(["1", "(1, 1)", "(2, 3)", "4"])
    return "a%d" % k, "nn.AdaptiveAvgPool2d(%s)" % size, "self.a%d(%s)" % (k, prev)


def batchnorm2d(rng, s, k, prev):
    return "bn%d" % k, "nn.BatchNorm2d(%d)" % maybe_wrong(rng, s[1]), "self.bn%d(%s)" % (k, prev)


def activation(rng, s, k, prev):
    return None, None, rng.choice(["F.relu(%s)", "torch.relu(%s)", "%s.relu()",
                                   "torch.sigmoid(%s)", "F.gelu(%s)", "torch.tanh(%s)",
                                   "F.dropout(%s, 0.1)", "%s * 2", "%s + 1.0"]) % prev


def flatten(rng, s, k, prev):
    return None, None, rng.choice(["torch.flatten(%s, 1)", "%s.flatten(1)",
                                   "%s.view(%s.size(0), -1)", "%s.reshape(%s.shape[0], -1)"]
                                  ).replace("%s", prev)


def bad_view(rng, s, k, prev):
    total = 1
    for d in s[1:]:
        total *= d
    return None, None, "%s.view(%d, %d)" % (prev, s[0], total + rng.choice([0, 0, 1, -1]))


def spatial_mean(rng, s, k, prev):
    return None, None, rng.choice(["%s.mean(dim=(2, 3))", "%s.sum(dim=-1)",
                                   "%s.mean(2, keepdim=True)", "%s.amax(dim=(-2, -1))"]) % prev


def residual(rng, s, k, prev):
    c = s[1]
    pad = rng.choice([1, 1, 0])
    return "r%d" % k, "nn.Conv2d(%d, %d, 3, padding=%d)" % (c, c, pad), \
        "%s + self.r%d(%s)" % (prev, k, prev)


def concat(rng, s, k, prev):
    c = s[1]
    pad = rng.choice([1, 1, 0])
    return "q%d" % k, "nn.Conv2d(%d, %d, 3, padding=%d)" % (c, rng.randint(1, 4), pad), \
        "torch.cat([%s, self.q%d(%s)], dim=1)" % (prev, k, prev)


def permute(rng, s, k, prev):
    return None, None, rng.choice(["%s.permute(0, 2, 3, 1)", "%s.transpose(1, 2)",
                                   "%s.transpose(-1, -2).contiguous()", "%s[:, :, 1:, :]",
                                   "%s[:, 0]", "%s.unsqueeze(1).squeeze(1)"]) % prev


def interpolate(rng, s, k, prev):
    return None, None, rng.choice(["F.interpolate(%s, scale_factor=2)",
                                   "F.interpolate(%s, size=(7, 5))",
                                   "nn.functional.interpolate(%s, scale_factor=0.5)"]) % prev


def linear(rng, s, k, prev):
    return "fc%d" % k, "nn.Linear(%d, %d)" % (maybe_wrong(rng, s[-1]), rng.randint(1, 16)), \
        "self.fc%d(%s)" % (k, prev)


def layernorm(rng, s, k, prev):
    return "ln%d" % k, "nn.LayerNorm(%d)" % maybe_wrong(rng, s[-1]), "self.ln%d(%s)" % (k, prev)


def lstm(rng, s, k, prev):
    hidden = rng.randint(1, 8)
    bi = rng.choice([False, True])
    return "rnn%d" % k, "nn.%s(%d, %d, batch_first=True, bidirectional=%s)" % (
        rng.choice(["LSTM", "GRU"]), maybe_wrong(rng, s[-1]), hidden, bi), \
        "self.rnn%d(%s)[0]" % (k, prev)


def attention(rng, s, k, prev):
    e = s[-1]
    heads = rng.choice([h for h in (1, 2, 4) if e % h == 0])
    return "mha%d" % k, "nn.MultiheadAttention(%d, %d, batch_first=True)" % (e, heads), \
        "self.mha%d(%s, %s, %s)[0]" % (k, prev, prev, prev)


def seq_ops(rng, s, k, prev):
    return None, None, rng.choice(["%s.mean(dim=1)", "%s[:, -1, :]", "%s.transpose(1, 2)",
                                   "%s @ %s.transpose(1, 2)", "torch.softmax(%s, dim=-1)",
                                   "%s.sum(1)"]).replace("%s", prev)


def unsqueeze(rng, s, k, prev):
    return None, None, rng.choice(["%s.unsqueeze(1)", "%s.view(%s.size(0), 1, -1)",
                                   "%s.unsqueeze(-1).unsqueeze(-1)"]).replace("%s", prev)


def batchnorm1d(rng, s, k, prev):
    return "bn%d" % k, "nn.BatchNorm1d(%d)" % maybe_wrong(rng, s[1]), "self.bn%d(%s)" % (k, prev)


def matmul_param(rng, s, k, prev):
    return "w%d" % k, "nn.Parameter(torch.randn(%d, %d))" % (maybe_wrong(rng, s[-1]),
                                                            rng.randint(1, 8)), \
        "%s @ self.w%d" % (prev, k)


STEPS_4D = [conv2d, conv2d, conv2d, conv_transpose, pool, pool, adaptive, batchnorm2d,
            activation, flatten, bad_view, spatial_mean, residual, concat, permute, interpolate]
STEPS_3D = [linear, layernorm, lstm, attention, seq_ops, activation, flatten]
STEPS_2D = [linear, linear, batchnorm1d, activation, unsqueeze, matmul_param, bad_view]


def generate(seed: int):
    """(source, input shape) of a random program."""
    rng = random.Random(seed)
    rank = rng.choice([2, 3, 4, 4, 4])
    shape = {2: (rng.randint(1, 3), rng.randint(1, 12)),
             3: (rng.randint(1, 3), rng.randint(1, 6), rng.choice([4, 6, 8])),
             4: (rng.randint(1, 2), rng.randint(1, 6), rng.randint(3, 24),
                 rng.randint(3, 24))}[rank]
    prog = Program(rng)
    torch.manual_seed(0)
    h = torch.randn(*shape)
    for _ in range(rng.randint(1, 7)):
        h = step(prog, h)
        # Empty tensors take backend-dependent paths in torch itself; stop before them.
        if h is None or h.numel() > 200_000 or h.numel() == 0 or h.dim() > 4:
            break
    return prog.source(shape), shape


def run_with_torch(source: str):
    """Execute a generated program: ({line: shape} of forward's assignments, error line or
    None, exception or None)."""
    code = compile(source, "<gen>", "exec")
    seen = {}
    failed = {}

    def local(frame, event, arg):
        if event == "exception" and "line" not in failed:
            failed["line"] = frame.f_lineno
        if event == "return":
            for name, value in frame.f_locals.items():
                if isinstance(value, torch.Tensor):
                    seen[name] = tuple(value.shape)
        return local

    def tracer(frame, event, arg):
        if frame.f_code.co_filename == "<gen>" and frame.f_code.co_name == "forward":
            return local
        return None

    ns = {"__name__": "gen"}
    old = sys.gettrace()
    sys.settrace(tracer)
    error = None
    try:
        with torch.no_grad():
            exec(code, ns)
    except Exception as exc:
        error = exc
    finally:
        sys.settrace(old)
    # forward's lines: "hK = ..." -> line numbers
    lines = {}
    for i, text in enumerate(source.splitlines(), start=1):
        stripped = text.strip()
        if stripped.startswith("h") and " = " in stripped:
            name = stripped.split(" = ", 1)[0]
            if name in seen:
                lines[i] = (name, seen[name])
    return lines, (failed.get("line") if error is not None else None), error
