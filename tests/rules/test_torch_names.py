"""torch_names.py against the installed torch: every attribute name a torch module has is
there (or is one torch makes as it runs), so ``hasattr(module, name)`` is False in the analysis
only for what torch's module does not have; and the analysis's hasattr agrees with torch's."""
from __future__ import annotations

import itertools

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.rules import torch_names

torch = pytest.importorskip("torch")
nn = torch.nn
import torch.nn.utils.prune  # noqa: E402,F401  (a submodule torch does not import itself)

from torch_names_source import compute  # noqa: E402  (needs torch; tests/rules is on the path)

KNOWN = torch_names.MODULE | torch_names.CONTAINER | torch_names.LAYER


def test_every_name_of_torchs_modules_is_listed():
    module, container, layer = compute()
    assert module <= torch_names.MODULE
    assert container <= torch_names.MODULE | torch_names.CONTAINER
    assert layer <= KNOWN


def built_modules():
    lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
    pruned = nn.Linear(3, 4)
    torch.nn.utils.prune.l1_unstructured(pruned, "weight", amount=0.5)
    ortho = nn.Linear(4, 4)
    torch.nn.utils.parametrizations.orthogonal(ortho)
    return [lstm, nn.GRU(3, 5, num_layers=3), nn.RNN(2, 2),
            torch.nn.utils.weight_norm(nn.Conv2d(3, 4, 3)),
            torch.nn.utils.spectral_norm(nn.Linear(3, 4)), pruned, ortho,
            nn.MultiheadAttention(8, 2, kdim=4, vdim=4), nn.TransformerEncoderLayer(8, 2),
            nn.Sequential(nn.Linear(2, 2)), nn.ModuleDict({"a": nn.ReLU()}),
            nn.BatchNorm2d(3), nn.Embedding(5, 2), nn.Conv1d(2, 2, 3, padding="same")]


@pytest.mark.parametrize("module", built_modules(), ids=lambda m: type(m).__name__)
def test_what_a_module_has_as_it_runs_is_listed_or_made_at_run_time(module):
    children = {name for name, _ in module.named_children()}
    extra = [n for n in set(dir(module)) | set(vars(module)) | children
             if n not in KNOWN and n not in children and not torch_names.made_at_run_time(n)]
    assert extra == []


LAYERS = {"conv": "nn.Conv2d(3, 4, 3)", "relu": "nn.ReLU()", "lstm": "nn.LSTM(4, 6)",
          "seq": "nn.Sequential(nn.Linear(2, 2), nn.ReLU())", "bn": "nn.BatchNorm1d(3)",
          "lin": "nn.Linear(2, 3, bias=False)"}
NAMES = ["weight", "bias", "weight_ih_l0", "zero_init_last", "_is_cn", "in_channels", "0",
         "training", "forward", "append", "_modules", "running_mean", "foo"]


def test_hasattr_of_torchs_modules_agrees_with_torch():
    lines = ["import torch", "import torch.nn as nn"]
    lines += ["%s = %s" % kv for kv in LAYERS.items()]
    names = {}
    for i, (var, attr) in enumerate(itertools.product(LAYERS, NAMES)):
        names["t%d" % i] = (var, attr)
        lines.append("t%d = torch.zeros(1 if hasattr(%s, %r) else 2)" % (i, var, attr))
    source = "\n".join(lines) + "\n"
    scope: dict = {}
    exec(source, scope)
    shapes = {f.name: f.shape for f in analyze(source).shapes}
    told = 0
    for t, (var, attr) in names.items():
        if shapes.get(t) is not None:
            told += 1
            assert shapes[t] == tuple(scope[t].shape), (var, attr)
    assert told > len(names) // 2
