"""The quick fix that resizes a data pipeline's images to a size the model takes (SPEC §7,
server/shapelens/analysis/resize_fix.py): where the Resize goes in v1 and v2 Composes, with and
without ToTensor; which size (the smallest the model takes, or the one the code states); when
no fix is offered.  Each fix offered is applied and the program analysed again; the model's
part of each program runs in torch on the fixed size (torchvision is not in .venv: the whole
fixed programs run with it in tests/data/vision/test_fixtures_vs_torch.py)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import pytest
import torch

from shapelens.analysis import analyze
from shapelens.analysis import dims as D
from shapelens.analysis.infer import spatial_sizes
from shapelens.analysis.resolver import WorkspaceResolver
from shapelens.analysis.values import format_shape
from tests.conftest import REPO
from tests.engine.test_fixtures import apply_edits

# LeNet-5 (takes 32×32 to 35×35: the pools' floors drop the extra rows).
LENET = textwrap.dedent("""\
    import torch
    import torch.nn as nn
    import torch.nn.functional as F


    class Net(nn.Module):
        def __init__(self, features=16 * 5 * 5):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(features, 120)
            self.fc2 = nn.Linear(120, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2)
            x = x.view(x.size(0), -1)
            return self.fc2(F.relu(self.fc1(x)))


    """)

MNIST = LENET + textwrap.dedent("""\
    import torchvision.transforms as transforms
    from torch.utils.data import DataLoader
    from torchvision import datasets

    transform = {transform}
    train_set = datasets.MNIST("./data", train=True, download=True, transform=transform)
    loader = DataLoader(train_set, batch_size=64)
    model = Net({features})
    {before}
    for images, labels in loader:
        out = model(images)
    """)


def program(transform, features="", before="", template=MNIST):
    return template.format(transform=transform, features=features, before=before)


TENSORS = LENET + textwrap.dedent("""\
    import torchvision.transforms as T
    from torch.utils.data import DataLoader, Dataset


    class Noise(Dataset):
        def __init__(self, transform):
            self.transform = transform

        def __len__(self):
            return 100

        def __getitem__(self, i):
            return self.transform(torch.rand(1, 28, 28)), 0


    transform = {transform}
    loader = DataLoader(Noise(transform), batch_size=10)
    model = Net({features})
    {before}
    for images, labels in loader:
        out = model(images)
    """)

TO_TENSOR = "transforms.Compose([transforms.ToTensor()])"
# The programs a Resize fixes, by name (tests/data/vision/test_fixtures_vs_torch.py runs each,
# fixed, with torch and torchvision).
FIXED = {
    "v1": program("transforms.Compose([transforms.ToTensor(), "
                  "transforms.Normalize((0.1307,), (0.3081,))])"),
    "v2": program("v2.Compose([v2.ToImage(), v2.ToDtype(torch.float32, scale=True)])").replace(
        "import torchvision.transforms as transforms", "from torchvision.transforms import v2"),
    "crop": program("transforms.Compose([transforms.ToTensor(), transforms.RandomCrop(24)])"),
    "own_resize": program("transforms.Compose([transforms.Resize(28), transforms.ToTensor()])"),
    "tensors": program("T.Compose([T.Normalize((0.5,), (0.5,))])", template=TENSORS),
    "names": program("Compose([ToTensor()])").replace(
        "import torchvision.transforms as transforms",
        "from torchvision.transforms import Compose, Resize, ToTensor"),
    "called_on_34": program(TO_TENSOR, before="model(torch.randn(1, 1, 34, 34))"),
    "comment_35": program(TO_TENSOR).replace(
        "def forward(self, x):", "def forward(self, x):  # shape: x=[N, 1, 35, 35]"),
    "comment_40": program(TO_TENSOR).replace(
        "def forward(self, x):", "def forward(self, x):  # shape: x=[N, 1, 40, 40]"),
    "proportions": program(TO_TENSOR, features="16 * 5 * 7").replace(
        'datasets.MNIST("./data", train=True, download=True, transform=transform)',
        "datasets.FakeData(1000, (1, 24, 32), 10, transform=transform)"),
}


def resize_fixes(text, path="case.py", resolver=None):
    report = analyze(text, path, resolver)
    assert not report.extra["internal_errors"]
    return [(d, f) for d in report.diagnostics for f in d.fixes if "Resize(" in f.title]


def fixed_program(text, path="case.py", resolver=None):
    """The one Resize fix's title, the fixed text, and the shapes the loop's images have
    after it (the fixed program analysed again: no error left)."""
    [(diagnostic, fix)] = resize_fixes(text, path, resolver)
    assert diagnostic.code == "linear-in-features"
    fixed = apply_edits(text, fix.edits)
    after = analyze(fixed, path, resolver)
    assert not [d for d in after.diagnostics if d.severity == "error"], after.diagnostics
    loop = next(i for i, line in enumerate(fixed.splitlines(), 1)
                if line.startswith("for images"))
    images = sorted({format_shape(f.shape) for f in after.shapes
                     if f.range.start_line == loop and f.name == "images"})
    return fix.title, fixed, images


def runs_in_torch(size, features=16 * 5 * 5, channels=1):
    """Whether the model (the programs' Net, made by torch) takes a batch of that size."""
    scope = {}
    exec(compile(LENET, "lenet.py", "exec"), scope)
    model = scope["Net"](features)
    try:
        model(torch.zeros(2, channels, *size))
    except RuntimeError:
        return False
    return True


def line_of(text, start):
    return next(line for line in text.splitlines() if line.startswith(start))


# ------------------------------------------------------------------ where the Resize goes

def test_v1_before_to_tensor():
    title, fixed, images = fixed_program(FIXED["v1"])
    assert title == "Insert transforms.Resize((32, 32)) into the Compose"
    assert line_of(fixed, "transform =") == (
        "transform = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor(), "
        "transforms.Normalize((0.1307,), (0.3081,))])")
    assert images == ["[32, 1, 32, 32]", "[64, 1, 32, 32]"]     # (the last batch: 60000 % 64)
    assert runs_in_torch((32, 32)) and not runs_in_torch((28, 28))


def test_v2_before_to_image():
    title, fixed, images = fixed_program(FIXED["v2"])
    assert title == "Insert v2.Resize((32, 32)) into the Compose"
    assert line_of(fixed, "transform =") == (
        "transform = v2.Compose([v2.Resize((32, 32)), v2.ToImage(), "
        "v2.ToDtype(torch.float32, scale=True)])")
    assert images == ["[32, 1, 32, 32]", "[64, 1, 32, 32]"]


def test_after_a_crop_of_the_tensor():
    title, fixed, images = fixed_program(FIXED["crop"])
    assert line_of(fixed, "transform =") == (
        "transform = transforms.Compose([transforms.ToTensor(), transforms.RandomCrop(24), "
        "transforms.Resize((32, 32))])")
    assert images == ["[32, 1, 32, 32]", "[64, 1, 32, 32]"]


def test_the_composes_own_resize_is_replaced():
    title, fixed, images = fixed_program(FIXED["own_resize"])
    assert title == ("Replace transforms.Resize(28) with transforms.Resize((32, 32)) in the "
                     "Compose")
    assert line_of(fixed, "transform =") == (
        "transform = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])")


def test_compose_of_tensors_without_to_tensor():
    title, fixed, images = fixed_program(FIXED["tensors"])
    assert line_of(fixed, "transform =") == (
        "transform = T.Compose([T.Normalize((0.5,), (0.5,)), T.Resize((32, 32))])")
    assert images == ["[10, 1, 32, 32]"]


def test_a_model_in_another_file(tmp_path):
    (tmp_path / "lenet.py").write_text(LENET)
    text = program("transforms.Compose([transforms.ToTensor()])").replace(LENET,
                                                                        "from lenet import Net\n")
    path = tmp_path / "train.py"
    resolver = WorkspaceResolver([str(tmp_path)])
    title, fixed, images = fixed_program(text, str(path), resolver)
    assert title == "Insert transforms.Resize((32, 32)) into the Compose"


def test_names_imported_from_transforms():
    text = FIXED["names"]
    title, fixed, images = fixed_program(text)
    assert line_of(fixed, "transform =") == "transform = Compose([Resize((32, 32)), ToTensor()])"
    # without Resize imported, the edit would not run: no fix
    assert not resize_fixes(text.replace("Compose, Resize, ToTensor", "Compose, ToTensor"))


# ------------------------------------------------------------------ which size


def test_the_smallest_size_the_model_takes():
    """LeNet takes 32 to 35 (its pools floor the odd rows away): 32, the size where each layer
    divides exactly and nothing is cropped, the one it was designed for.  torch agrees on the
    range, below and above."""
    text = program(TO_TENSOR)
    assert fixed_program(text)[0] == "Insert transforms.Resize((32, 32)) into the Compose"
    assert [s for s in range(20, 40) if runs_in_torch((s, s))] == [32, 33, 34, 35]


def test_the_size_the_code_states():
    # another call of the model on 34x34 runs: that is the size the program uses it with
    title = fixed_program(FIXED["called_on_34"])[0]
    assert title == "Insert transforms.Resize((34, 34)) into the Compose"
    # a shape comment on the forward says it too
    title = fixed_program(FIXED["comment_35"])[0]
    assert title == "Insert transforms.Resize((35, 35)) into the Compose"
    # a stated size the model does not take is not used
    title = fixed_program(FIXED["comment_40"])[0]
    assert title == "Insert transforms.Resize((32, 32)) into the Compose"


def test_a_model_built_for_other_proportions():
    """Linear(16*5*7) takes 32-35 by 40-43 (or 40-43 by 32-35): the images' own proportions
    (3:4 from FakeData's 24x32) decide."""
    title, fixed, images = fixed_program(FIXED["proportions"])
    assert title == "Insert transforms.Resize((32, 40)) into the Compose"
    assert images == ["[40, 1, 32, 40]", "[64, 1, 32, 40]"]
    assert runs_in_torch((32, 40), 16 * 5 * 7) and not runs_in_torch((32, 32), 16 * 5 * 7)


def test_spatial_sizes_solves_the_constraints():
    H, W = D.sym("H"), D.sym("W")
    lenet = D.mul(16, D.mul(D.sub(D.floordiv(H, 4), 3), D.sub(D.floordiv(W, 4), 3)))
    assert spatial_sizes([(lenet, 400, None)], (28, 28))[0] == (32, 32)
    assert spatial_sizes([(lenet, 560, None)], (24, 32))[0] == (32, 40)
    assert spatial_sizes([(lenet, 560, None)], (32, 24))[0] == (40, 32)
    # square images, a model that takes no square: every range's corner, the nearest to a
    # square first (then the smallest); each meets the constraint
    sizes = spatial_sizes([(lenet, 560, None)], (28, 28))
    assert sizes == [(32, 40), (40, 32), (16, 152), (152, 16)]
    assert all(D.evaluate(lenet, {"H": h, "W": w}) == 560 for h, w in sizes)
    # a stated size that fits comes first
    assert spatial_sizes([(lenet, 400, None)], (28, 28), [(36, 36), (34, 35)]) == [(34, 35),
                                                                                 (32, 32)]
    # a constraint on H alone leaves the width as it is
    assert spatial_sizes([(D.sub(H, 4), 28, None)], (28, 50)) == [(32, 50)]
    # nothing fits, nothing names H or W, or another symbol is involved: no size
    assert spatial_sizes([(lenet, 401, None)], (28, 28)) == []
    assert spatial_sizes([(D.sym("N"), 4, None)], (28, 28)) == []
    assert spatial_sizes([(D.mul(H, D.sym("C")), 64, None)], (28, 28)) == []


# ------------------------------------------------------------------ no fix


@pytest.mark.parametrize("case", ["no size fits", "list not literal", "resized after",
                                  "channels"])
def test_no_fix(case):
    transform = "transforms.Compose([transforms.ToTensor()])"
    features = ""
    if case == "no size fits":
        features = "401"        # 16 * a * b is never 401
    elif case == "list not literal":
        transform = "transforms.Compose(steps)"
    text = program(transform, features)
    if case == "list not literal":
        text = text.replace("transform = ", "steps = [transforms.ToTensor()]\ntransform = ")
    elif case == "resized after":   # a crop after the Compose sets the size again
        text = program("T.Compose([T.Normalize((0.5,), (0.5,))])", template=TENSORS).replace(
            "self.transform(torch.rand(1, 28, 28))",
            "T.CenterCrop(28)(self.transform(torch.rand(1, 40, 40)))")
    elif case == "channels":        # a model for RGB: resizing does not help
        text = text.replace("nn.Conv2d(1, 6, 5)", "nn.Conv2d(3, 6, 5)")
    report = analyze(text, "case.py")
    assert [d for d in report.diagnostics if d.severity == "error"]
    assert not resize_fixes(text)


def test_the_fix_is_found_only_on_the_first_analysis(monkeypatch):
    """The re-check analyses the fixed source once, looking for no fix itself."""
    import shapelens.analysis as analysis
    calls = []
    real = analysis._analyze

    def counting(*args):
        calls.append(args[-1])
        return real(*args)

    monkeypatch.setattr(analysis, "_analyze", counting)
    text = program("transforms.Compose([transforms.ToTensor()])")
    assert resize_fixes(text)
    assert calls == [True, False]
    assert re.search(r"Resize\(\(32, 32\)\)", resize_fixes(text)[0][1].title)


def test_the_command_line_gives_the_fix():
    """``shapelens check --format json`` lists the fix with its edit (seed 001's MNIST into
    LeNet, as written)."""
    path = REPO / "tests" / "data" / "fixtures" / "seed001_mnist_no_resize.py"
    proc = subprocess.run([sys.executable, "-m", "shapelens", "check", "--format", "json",
                           str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    [diagnostic] = json.loads(proc.stdout)["files"][0]["diagnostics"]
    fix = diagnostic["fixes"][-1]
    assert fix["title"] == "Insert transforms.Resize((32, 32)) into the Compose"
    [edit] = fix["edits"]
    assert edit["range"]["start"] == edit["range"]["end"] == {"line": 10, "column": 33}
    assert edit["newText"] == "transforms.Resize((32, 32)), "


def test_a_compose_in_another_file_gets_no_edit_in_this_one(tmp_path):
    """The Compose's element positions belong to the file that builds it: a fix there was an
    edit at those positions in the analysed file (Grayscale here).  Neither data fix is
    offered for a Compose in another file (the re-check analyses this file only)."""
    (tmp_path / "data.py").write_text(textwrap.dedent("""\
        import torchvision.transforms as transforms
        from torch.utils.data import DataLoader
        from torchvision import datasets

        transform = transforms.Compose([transforms.ToTensor()])
        loader = DataLoader(datasets.MNIST("./data", transform=transform), batch_size=64)
        """))
    rgb = LENET.replace("nn.Conv2d(1, 6, 5)", "nn.Conv2d(3, 6, 5)")
    for model, code in ((LENET, "linear-in-features"), (rgb, "conv-in-channels")):
        text = model + "from data import loader\n\nmodel = Net()\n" \
            "for images, labels in loader:\n    out = model(images)\n"
        report = analyze(text, str(tmp_path / "train.py"), WorkspaceResolver([str(tmp_path)]))
        [diagnostic] = [d for d in report.diagnostics if d.severity == "error"]
        assert diagnostic.code == code
        [data] = [r for r in diagnostic.related if "from datasets.MNIST" in r.message]
        assert data.loc.path == str(tmp_path / "data.py")
        assert [f.title for f in diagnostic.fixes] == [
            "Set in_features of fc1 to 256" if code == "linear-in-features" else
            "Set in_channels of conv1 to 1"]
