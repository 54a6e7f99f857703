"""Small models with known findings, and a way to run ``shapelens check`` in a folder."""
from __future__ import annotations

import subprocess
import sys
import textwrap

# line 4: linear-in-features (error), inside no definition
LINEAR_BAD = """\
import torch
import torch.nn as nn
fc = nn.Linear(4, 2)
y = fc(torch.zeros(3, 5))
"""

# line 11: conv-in-channels inside Net.forward; line 16: shape-contract (a warning) in helper
NET_BAD = """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):  # shape: x=[1, 4, 16, 16]
        h = self.conv(x)
        return h


def helper(t):
    u = t.view(2, 3)  # shape: [3, 2]
    return u


helper(torch.zeros(6))
"""

# lib/blocks.py of a project whose app/main.py imports it with `from blocks import Block`
# (found only through extra-paths = ["lib"]): conv-in-channels raised inside Block
BLOCKS = """\
import torch.nn as nn

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)

    def forward(self, x):
        return self.conv(x)
"""
MAIN = """\
import torch
from blocks import Block

out = Block()(torch.zeros(1, 4, 8, 8))
"""


def write(folder, name, text):
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def shapelens(*args, cwd):
    """``python -m shapelens ARGS`` in ``cwd``: (exit status, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "shapelens", *map(str, args)],
                          capture_output=True, text=True, timeout=300, cwd=str(cwd))
    return proc.returncode, proc.stdout, proc.stderr


def codes_by_line(stdout):
    """{(file, line): [code, ...]} from the text format."""
    out = {}
    for line in stdout.splitlines():
        path, lineno, _col, rest = line.split(":", 3)
        severity, code = rest.split()[:2]
        out.setdefault((path, int(lineno)), []).append(code)
    return out
