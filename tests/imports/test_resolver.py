"""The resolver: library code analysed from source (from a dict, so the analysis stays pure),
and where a resolver may read on disk (issue 12, item 9): inside the workspace roots and the
environment's import paths; a relative import beyond the top-level package resolves to nothing,
as in Python; a symbolic link leading outside those places is not followed."""
from __future__ import annotations

import os
import textwrap

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.resolver import DictResolver, Importer, WorkspaceResolver

LIBRARY = textwrap.dedent("""\
    import torch.nn as nn


    class Backbone(nn.Module):
        def __init__(self, width=16):
            super().__init__()
            self.stem = nn.Conv2d(3, width, 3, padding=1)
            self.pool = nn.AdaptiveAvgPool2d(1)

        def forward(self, x):
            return self.pool(self.stem(x)).flatten(1)


    def backbone(**kwargs):
        return Backbone(**kwargs)
    """)


def dedent(text):
    return textwrap.dedent(text)


def shapes_of(report):
    return {f.name: f.shape for f in report.shapes}


def test_library_code_is_analysed_from_source_through_a_dict_resolver():
    resolver = DictResolver({"/site/visionlib/__init__.py": "",
                             "/site/visionlib/nets.py": LIBRARY},
                            roots=["/ws"], library_roots=["/site"])
    main = dedent("""\
        import torch
        from visionlib.nets import backbone

        model = backbone(width=32)
        feats = model(torch.randn(2, 3, 64, 64))
        bad = model(torch.randn(2, 1, 64, 64))
        """)
    report = analyze(main, "/ws/main.py", resolver)
    assert shapes_of(report)["feats"] == (2, 32)
    [error] = [d for d in report.diagnostics if d.severity == "error"]
    assert error.code == "conv-in-channels" and error.range.start_line == 6
    # the layer is named where it is defined, in the library's file
    assert any(r.loc.path == "/site/visionlib/nets.py" and r.loc.range.start_line == 7
               for r in error.related)
    assert "visionlib/nets.py:11" in error.message
    assert not error.fixes           # no quick fix edits a library file
    # the package runs first, as in Python
    assert report.dependencies == ("/site/visionlib/__init__.py", "/site/visionlib/nets.py")


def test_relative_names_resolve_inside_the_package():
    files = {"/ws/pkg/__init__.py": "", "/ws/pkg/a.py": "from .b import WIDTH\n",
             "/ws/pkg/b.py": "WIDTH = 8\n", "/ws/pkg/sub/__init__.py": "",
             "/ws/pkg/sub/c.py": "from ..b import WIDTH\n"}
    resolver = DictResolver(files)
    found = resolver("b", Importer("/ws/pkg/a.py", "pkg.a"), 1)
    assert found.path == "/ws/pkg/b.py" and found.name == "pkg.b"
    assert resolver("b", Importer("/ws/pkg/sub/c.py", "pkg.sub.c"), 2).path == "/ws/pkg/b.py"
    # beyond the top-level package: nothing, as in Python
    assert resolver("b", Importer("/ws/pkg/a.py", "pkg.a"), 2) is None
    assert resolver("x", Importer("/ws/main.py", "main"), 1) is None


# ----------------------------------------------------------------------------- on disk

SECRET = "SECRET_SIZE = 7\n"

USES_SECRET = """\
import torch
{import_line}

a = torch.zeros(SECRET_SIZE, 3)
b = a + torch.zeros(5, 3)
"""


@pytest.fixture
def layout(tmp_path):
    """tmp/ws is the workspace; tmp/outside holds a module it must never read."""
    ws = tmp_path / "ws"
    outside = tmp_path / "outside"
    ws.mkdir()
    outside.mkdir()
    (outside / "__init__.py").write_text("")
    (outside / "secret_mod.py").write_text(SECRET)
    return ws, outside


def check(ws, path, import_line):
    text = USES_SECRET.format(import_line=import_line)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return analyze(text, str(path), WorkspaceResolver([str(ws)]))


def read_nothing_outside(report, outside):
    assert not any(str(outside) in p for p in report.dependencies), report.dependencies
    for d in report.diagnostics:
        assert "7" not in d.message
        assert not any(r.loc.path and str(outside) in r.loc.path for r in d.related)
    assert not report.diagnostics


def test_relative_import_beyond_the_top_level_package_resolves_to_nothing(layout):
    ws, outside = layout
    report = check(ws, ws / "main.py", "from ..outside.secret_mod import SECRET_SIZE")
    read_nothing_outside(report, outside)


def test_relative_import_from_a_package_cannot_climb_out_of_it(layout):
    ws, outside = layout
    (ws / "pkg").mkdir()
    (ws / "pkg" / "__init__.py").write_text("")
    report = check(ws, ws / "pkg" / "mod.py", "from ...outside.secret_mod import SECRET_SIZE")
    read_nothing_outside(report, outside)


def test_an_imported_module_cannot_climb_out_either(layout):
    ws, outside = layout
    (ws / "pkg").mkdir()
    (ws / "pkg" / "__init__.py").write_text("")
    (ws / "pkg" / "relay.py").write_text("from ...outside.secret_mod import SECRET_SIZE\n")
    report = check(ws, ws / "main.py", "from pkg.relay import SECRET_SIZE")
    read_nothing_outside(report, outside)


def test_a_symlinked_file_leading_outside_is_not_followed(layout):
    ws, outside = layout
    os.symlink(outside / "secret_mod.py", ws / "linked.py")
    report = check(ws, ws / "main.py", "from linked import SECRET_SIZE")
    read_nothing_outside(report, outside)


def test_a_symlinked_folder_leading_outside_is_not_followed(layout):
    ws, outside = layout
    os.symlink(outside, ws / "linkedpkg")
    report = check(ws, ws / "main.py", "from linkedpkg.secret_mod import SECRET_SIZE")
    read_nothing_outside(report, outside)


def test_links_and_relative_imports_inside_the_workspace_still_work(layout):
    """The positive side: the same imports, kept inside the workspace, are followed."""
    ws, _ = layout
    (ws / "pkg").mkdir()
    (ws / "pkg" / "__init__.py").write_text("")
    (ws / "pkg" / "secret_mod.py").write_text(SECRET)
    os.symlink(ws / "pkg" / "secret_mod.py", ws / "linked.py")
    for path, line in ((ws / "pkg" / "user.py", "from .secret_mod import SECRET_SIZE"),
                       (ws / "main.py", "from linked import SECRET_SIZE"),
                       (ws / "main2.py", "from pkg.secret_mod import SECRET_SIZE")):
        report = check(ws, path, line)
        assert [d.code for d in report.diagnostics] == ["shape-mismatch"], (path, line)
        assert "[7, 3]" in report.diagnostics[0].message


def test_a_workspace_src_folder_is_a_root(tmp_path):
    (tmp_path / "src" / "proj").mkdir(parents=True)
    (tmp_path / "src" / "proj" / "__init__.py").write_text("WIDTH = 4\n")
    resolver = WorkspaceResolver([str(tmp_path)])
    found = resolver("proj", Importer(str(tmp_path / "scripts" / "run.py")), 0)
    assert found is not None and found.name == "proj" and not found.library


PACKAGE_FILES = {
    "lib/__init__.py": "from . import models\nfrom . import ops\n",
    "lib/models/__init__.py": "from .a import make_a\nfrom .b import make_b\n",
    "lib/models/a.py": "from ..ops import Block\n\n\ndef make_a():\n    return Block(8)\n",
    "lib/models/b.py": "from ..ops import Block\n\n\ndef make_b():\n    return Block(16)\n",
    "lib/ops/__init__.py": "from .helpers import helper\nfrom .blocks import Block\n",
    "lib/ops/helpers.py": "import lib\n\n\ndef helper(x):\n    return x\n",
    "lib/ops/blocks.py": dedent("""\
        import torch.nn as nn


        class Block(nn.Module):
            def __init__(self, width):
                super().__init__()
                self.conv = nn.Conv2d(3, width, 3)

            def forward(self, x):
                return self.conv(x)
        """),
}


def test_a_modules_packages_run_before_it_as_in_python(tmp_path):
    """torchvision's shape: ``from lib.models.a import ...`` runs lib, lib.models (which
    imports b), then a.  Run from the submodule first, ``lib.ops`` was entered through a
    circular import before Block was defined, and b's Block was unknown."""
    main = dedent("""\
        import torch
        from lib.models.a import make_a
        from lib.models.b import make_b

        ya = make_a()(torch.randn(1, 3, 8, 8))
        yb = make_b()(torch.randn(1, 3, 8, 8))
        """)
    for name, text in PACKAGE_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "main.py").write_text(main)
    torch = pytest.importorskip("torch")
    scope: dict = {}
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        exec(compile(main, str(tmp_path / "main.py"), "exec"), scope)
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == "lib" or m.startswith("lib.")]:
            del sys.modules[module]
    assert isinstance(scope["yb"], torch.Tensor)
    resolver = DictResolver({"/site/" + k: v for k, v in PACKAGE_FILES.items()},
                            roots=["/ws"], library_roots=["/site"])
    shapes = shapes_of(analyze(main, "/ws/main.py", resolver))
    assert shapes["ya"] == tuple(scope["ya"].shape) == (1, 8, 6, 6)
    assert shapes["yb"] == tuple(scope["yb"].shape) == (1, 16, 6, 6)


BLUR_LIB = dedent("""\
    import torch.nn as nn
    import torch.nn.functional as F


    class Blur(nn.Module):
        def __init__(self, channels=None, stride=2):
            super().__init__()
            self.conv = nn.Conv2d(channels or 1, channels or 1, 3, stride, 1, groups=channels or 1)

        def forward(self, x):
            return self.conv(x)


    def create_aa(layer, channels, stride=2):
        try:
            return layer(channels=channels, stride=stride)
        except TypeError:       # a pooling layer that takes no channels
            return layer(stride)


    def stem(channels):
        return nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), create_aa(Blur, channels))
    """)


def test_a_failure_on_an_undecided_path_inside_a_library_is_not_shown():
    """timm's create_aa: the except path builds Blur(2) (channels=2), which fails on the
    input; torch never takes that path, and the user can do nothing about it.  A failure on a
    path of the user's own undecided branch is still a warning."""
    resolver = DictResolver({"/site/blurlib.py": BLUR_LIB}, roots=["/ws"],
                            library_roots=["/site"])
    main = dedent("""\
        import random

        import torch
        from blurlib import stem

        y = stem(16)(torch.randn(1, 3, 8, 8))
        if random.random() < 0.5:
            z = stem(16)(torch.randn(1, 1, 8, 8))
        """)
    report = analyze(main, "/ws/main.py", resolver)
    assert shapes_of(report).get("y") in (None, (1, 16, 4, 4))    # (either path's module)
    assert [(d.severity, d.range.start_line) for d in report.diagnostics] == [("warning", 8)]
