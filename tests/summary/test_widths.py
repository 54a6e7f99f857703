"""Sizes in the summary are never a wrong width's (widths.py): where the program may make tensors
of another width than torch's default for their kind (float32, int64), those sizes are "?" and a
note says where; where it cannot, they are known.  The cases against torchinfo itself are the
``widths_*`` files of tests/data/summary (test_vs_torchinfo.py); these tests pin down which
code makes a size unknown and which does not, on the analysis alone."""
from __future__ import annotations

import textwrap

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.interp.modules import ModuleCache
from shapelens.analysis.resolver import DictResolver
from shapelens.analysis.summary import summarize

HEAD = """\
import numpy as np
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 4)

    def forward(self, x):
        return self.fc(x)

"""


def _summary(code, path="/ws/main.py", resolver=None):
    report = analyze(HEAD + textwrap.dedent(code), path, resolver)
    return summarize(report, "Net")


def _sizes(summary):
    return summary.input_bytes, summary.output_bytes, summary.param_bytes


KNOWN = {
    "plain": "Net()(torch.randn(2, 10))\n",
    "to device": """\
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        Net().to(device)(torch.randn(2, 10).to(device))
        """,
    "to a device name of either branch": """\
        if torch.cuda.is_available():
            where = "cuda"
        else:
            where = "cpu"
        Net().to(where)(torch.randn(2, 10, device=where).to(where))
        """,
    "to another tensor's device and dtype": """\
        x = torch.randn(2, 10)
        Net()(torch.ones(2, 10).to(x.device).to(x.dtype).type_as(x))
        """,
    "float32 named": """\
        net = Net().to(torch.float32).float()
        net(torch.zeros(2, 10, dtype=torch.float32).type(torch.FloatTensor))
        """,
    "int64 tensors": """\
        idx = torch.randint(0, 5, (2, 10), dtype=torch.long)
        Net()(idx.to(torch.int64).float())
        """,
}


@pytest.mark.parametrize("code", KNOWN.values(), ids=KNOWN.keys())
def test_default_widths_give_sizes(code):
    s = _summary(code)
    assert _sizes(s) == (80, 64, 176)      # 2*10 floats, 2 * 2*4 floats, 44 parameters
    assert not [n for n in s.notes if n.startswith("sizes of ")]


UNSURE = {
    "model.double()": ("Net().double()(torch.randn(2, 10).double())\n", ".double()"),
    "model.half()": ("Net().half()(torch.randn(2, 10).half())\n", ".half()"),
    "bfloat16": ("Net().bfloat16()(torch.randn(2, 10, dtype=torch.bfloat16))\n",
                 ".bfloat16()"),
    "float16 input": ("Net()(torch.randn(2, 10, dtype=torch.float16))\n", "torch.float16"),
    "layer made in float64": ("""\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(10, 4, dtype=torch.float64)

            def forward(self, x):
                return self.fc(x)

        Net()(torch.randn(2, 10, dtype=torch.double))
        """, "torch.float64"),
    "default dtype set": ("torch.set_default_dtype(torch.float64)\nNet()(torch.randn(2, 10))\n",
                          "torch.float64"),
    "default tensor type by name": ("""\
        torch.set_default_tensor_type("torch.DoubleTensor")
        Net()(torch.randn(2, 10))
        """, "torch.DoubleTensor"),
    "to a dtype of either branch": ("""\
        dtype = torch.float16 if torch.cuda.is_available() else torch.float32
        Net().to(dtype)(torch.randn(2, 10).to(dtype))
        """, "a dtype the analysis cannot see at line 14"),
    "a dtype the analysis cannot see": ("""\
        import config
        Net().to(config.dtype)(torch.randn(2, 10, dtype=config.dtype))
        """, "a dtype the analysis cannot see"),
    "type by name": ("Net().type(torch.DoubleTensor)(torch.randn(2, 10).type('torch.DoubleTensor'))\n",
                     "torch.DoubleTensor"),
    "float64 numpy array": ("Net().double()(torch.from_numpy(np.random.randn(2, 10)))\n",
                            ".double()"),
    "numpy only": ("Net()(torch.from_numpy(np.zeros((2, 10))))\n", "float64 numpy array"),
    "autocast": ("""\
        with torch.autocast("cpu"):
            Net()(torch.randn(2, 10))
        """, "torch.autocast"),
    "conversion of a value the analysis cannot see": ("""\
        import helpers
        helpers.make().half()
        Net()(torch.randn(2, 10))
        """, ".half() at line 14"),
}


@pytest.mark.parametrize("code, why", UNSURE.values(), ids=UNSURE.keys())
def test_another_width_makes_sizes_unknown(code, why):
    s = _summary(code)
    assert _sizes(s) == (None, None, None)
    assert s.total_params == 44 and s.rows[-1].output == (2, 4)     # the rest as before
    notes = [n for n in s.notes if n.startswith("sizes of float tensors not known")]
    assert len(notes) == 1 and why in notes[0], s.notes


EMBEDDING = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)

    def forward(self, ids):
        return self.embed(ids)

"""


def test_integer_widths_are_their_own():
    """An int32 index tensor: its size is not known; float sizes still are."""
    code = EMBEDDING + "Net()(torch.randint(0, 50, (2, 5), dtype=torch.int32))\n"
    s = _summary(code)
    assert _sizes(s) == (None, 2 * 2 * 5 * 8 * 4, 50 * 8 * 4)
    assert any(n.startswith("sizes of integer tensors not known") and "torch.int32" in n
               for n in s.notes)


def test_an_int64_parameter_counts_8_bytes():
    """(torchinfo sums the parameter bytes of leaf modules: this one has no sub-module.)"""
    code = """\
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.w = nn.Parameter(torch.randn(10, 4))
                self.seen = nn.Parameter(torch.zeros(3, dtype=torch.long), requires_grad=False)

            def forward(self, x):
                return x @ self.w

        Net()(torch.randn(2, 10))
        """
    s = _summary(code)
    assert s.param_bytes == 40 * 4 + 3 * 8


def test_to_a_dtype_changes_the_kind():
    """``x.to(torch.long)`` is an int64 tensor (8 bytes an element), not a float one."""
    code = EMBEDDING + "Net()(torch.zeros(2, 5).to(torch.long))\n"
    assert _summary(code).input_bytes == 2 * 5 * 8


def test_an_imported_module_that_sets_the_width_counts_every_time():
    """The module's top level runs once and is shared (ModuleCache): what it noted is noted
    again in every analysis that imports it."""
    files = {"/ws/precision.py": "import torch\ntorch.set_default_dtype(torch.float64)\n",
             "/ws/config.py": "SIZE = 10\n"}
    cache = ModuleCache()
    resolver = DictResolver(files, cache=cache)
    for _ in range(2):
        s = _summary("import precision\nNet()(torch.randn(2, 10))\n", resolver=resolver)
        assert _sizes(s) == (None, None, None)
        assert any("torch.float64 at precision.py:2" in n for n in s.notes), s.notes
    assert cache.hits == 1
    s = _summary("import config\nNet()(torch.randn(2, 10))\n", resolver=resolver)
    assert _sizes(s) == (80, 64, 176)
