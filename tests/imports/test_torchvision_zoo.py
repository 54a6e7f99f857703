"""torchvision's model zoo, analysed from its source as a user's file would reach it
(``from torchvision.models import efficientnet_b0``): every model built with its defaults and
called on an input of the size it is made for.  The shape of the output equals the one torch
gives (run in .venv-vision by run_torchvision_zoo.py), never a wrong one, with no diagnostic;
the models listed in NOT_REACHED are unknown (said quietly), and no other.

The models are analysed one after the other sharing one module cache, as ``shapelens check``
and the server share it: a model's result must not depend on which was analysed before it
(MViT's StochasticDepth was once unknown after EfficientNet had loaded torchvision.ops)."""
from __future__ import annotations

import json
import pathlib
import subprocess

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.interp.modules import ModuleCache
from shapelens.analysis.resolver import WorkspaceResolver

from .finetune_helpers import TORCHVISION_SOURCE, VISION_PYTHON, FolderEnvironment

pytestmark = [pytest.mark.skipif(not VISION_PYTHON.exists(),
                                 reason="needs .venv-vision (scripts/setup-vision.sh)"),
              pytest.mark.skipif(not TORCHVISION_SOURCE.exists(),
                                 reason="needs torchvision's source (scripts/setup-python.sh)")]

# RegNet computes its stage widths from tensor values (``torch.round(...).int().tolist()``,
# then ``len(set(widths))`` stages): the analysis knows how many numbers, not which, so its
# stages are unknown.  (Before, a list of unknown pairs made an empty OrderedDict: the trunk
# was an empty Sequential, and the logits' shape was right only by chance.)
NOT_REACHED = {"regnet_x_400mf", "regnet_x_800mf", "regnet_x_1_6gf", "regnet_x_3_2gf",
               "regnet_x_8gf", "regnet_y_400mf", "regnet_y_800mf", "regnet_y_1_6gf",
               "regnet_y_3_2gf", "regnet_y_8gf"}


@pytest.fixture(scope="module")
def zoo():
    runner = pathlib.Path(__file__).parent / "run_torchvision_zoo.py"
    out = subprocess.run([str(VISION_PYTHON), str(runner)], capture_output=True, text=True,
                         timeout=900)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)


def source_of(case) -> str:
    kwargs = ", ".join("%s=%r" % kv for kv in case["kwargs"].items())
    call = "model(torch.randn(%s))" % ", ".join(map(str, case["input"]))
    lines = ["import torch", "from %s import %s" % (case["module"], case["name"]),
             "model = %s(%s)" % (case["name"], kwargs), "model.eval()"]
    lines += ["out = %s" % call, 'y = out["out"]'] if case["segmentation"] else ["y = " + call]
    return "\n".join(lines) + "\n"


def test_every_model_of_the_zoo_has_torchs_output_shape(zoo, tmp_path):
    assert len(zoo) > 80
    resolver = WorkspaceResolver([str(tmp_path)], environment=FolderEnvironment(
        TORCHVISION_SOURCE), cache=ModuleCache())
    wrong, unknown = [], set()
    for case in zoo:
        assert case["error"] is None, case          # each runs in torch on this input
        report = analyze(source_of(case), str(tmp_path / "m.py"), resolver)
        shapes = [f.shape for f in report.shapes if f.name == "y" and f.shape is not None]
        if report.diagnostics:
            wrong.append((case["name"], [d.message for d in report.diagnostics]))
        elif not shapes:
            unknown.add(case["name"])
        elif shapes != [tuple(case["shape"])]:
            wrong.append((case["name"], shapes, case["shape"]))
    assert not wrong
    assert unknown == NOT_REACHED
