"""Imports resolve into the selected environment, as jedi finds packages there: a package of
our own installed into a temporary environment the ways people install them (a regular
install, an editable install of a flat layout, which setuptools makes with an import hook, an
editable install of a src/ layout, a namespace package split over two folders), then analysed
from a workspace that imports them, through the CLI's ``--python``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from shapelens.analysis import analyze
from shapelens.environment import Environment, workspace_resolver

MODEL = textwrap.dedent("""\
    import torch.nn as nn


    class Encoder(nn.Module):
        def __init__(self, channels={channels}):
            super().__init__()
            self.conv = nn.Conv2d(channels, 8, 3, padding=1)

        def forward(self, x):
            return self.conv(x)
    """)

PYPROJECT = textwrap.dedent("""\
    [build-system]
    requires = ["setuptools>=64"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "{name}"
    version = "0.1"
    {packages}
    """)


def make_project(root, name, channels, src):
    pkg = root / ("src" if src else "") / name
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .models import Encoder\n")
    (pkg / "models.py").write_text(MODEL.format(channels=channels))
    packages = '[tool.setuptools.packages.find]\nwhere = ["src"]' if src else \
        '[tool.setuptools]\npackages = ["%s"]' % name
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name, packages=packages))
    return root


def pip_install(python, *args):
    # setuptools from this interpreter builds the package (no download of build dependencies)
    import setuptools
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(setuptools.__file__)),
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-build-isolation", "--no-deps", "--no-index", *args],
                   check=True, env=env, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def environment(tmp_path_factory):
    base = tmp_path_factory.mktemp("env")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(base / "venv")],
                   check=True, timeout=120)
    python = base / "venv" / "bin" / "python"
    pip_install(python, str(make_project(base / "regular", "regularpkg", 1, src=False)))
    pip_install(python, "-e", str(make_project(base / "flat", "flatpkg", 2, src=False)))
    pip_install(python, "-e", str(make_project(base / "srclayout", "srcpkg", 3, src=True)))
    # a namespace package: nspkg.left and nspkg.right in two folders on the path
    for side, channels in (("left", 4), ("right", 5)):
        folder = base / ("ns_" + side) / "nspkg" / side
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(MODEL.format(channels=channels))
    site = next((base / "venv" / "lib").glob("python*")) / "site-packages"
    (site / "namespaces.pth").write_text("%s\n%s\n" % (base / "ns_left", base / "ns_right"))
    return python


USES = textwrap.dedent("""\
    import torch
    from regularpkg import Encoder as Regular
    from flatpkg.models import Encoder as Flat
    import srcpkg
    from nspkg.left import Encoder as Left
    from nspkg import right

    a = Regular()(torch.randn(2, 1, 8, 8))
    b = Flat()(torch.randn(2, 2, 8, 8))
    c = srcpkg.Encoder()(torch.randn(2, 3, 8, 8))
    d = Left()(torch.randn(2, 4, 8, 8))
    e = right.Encoder()(torch.randn(2, 5, 8, 8))
    f = Flat()(torch.randn(2, 3, 8, 8))
    """)


def test_jedi_finds_each_kind_of_install(environment):
    env = Environment(str(environment))
    assert env.problem is None
    regular = env.locate("regularpkg")
    assert regular and regular[0].endswith(os.path.join("site-packages", "regularpkg"))
    assert env.locate("flatpkg")[0].endswith(os.path.join("flat", "flatpkg"))      # import hook
    assert env.locate("srcpkg")[0].endswith(os.path.join("srclayout", "src", "srcpkg"))
    assert sorted(os.path.basename(os.path.dirname(p)) for p in env.locate("nspkg")) == \
        ["ns_left", "ns_right"]
    assert env.locate("json") is None            # the standard library is not analysed
    assert env.locate("no_such_package") is None


def test_installed_code_is_analysed_from_source(environment, tmp_path):
    main = tmp_path / "train.py"
    main.write_text(USES)
    report = analyze(USES, str(main), workspace_resolver([str(tmp_path)], str(environment)))
    shapes = {f.name: f.shape for f in report.shapes}
    assert {k: shapes.get(k) for k in "abcde"} == {k: (2, 8, 8, 8) for k in "abcde"}
    [error] = report.diagnostics
    assert error.code == "conv-in-channels" and error.range.start_line == 13
    assert "flatpkg/models.py:10" in error.message      # named by its place in its package


def test_the_cli_resolves_into_the_interpreter_given(environment, tmp_path):
    main = tmp_path / "train.py"
    main.write_text(USES)

    def check(*extra):
        out = subprocess.run([sys.executable, "-m", "shapelens", "check", "--format", "json",
                              "-j", "1", str(main), *extra], capture_output=True, text=True,
                             cwd=tmp_path, timeout=300)
        return json.loads(out.stdout)["files"][0]
    found = check("--python", str(environment))
    assert [d["code"] for d in found["diagnostics"]] == ["conv-in-channels"]
    # this interpreter's environment has none of them: unknown, quietly
    assert check()["diagnostics"] == []
