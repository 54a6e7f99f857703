"""Shared by the fine-tuning tests: the cases, their expectations, torchvision's source."""
from __future__ import annotations

import os
import pathlib

from tests.conftest import REPO
from tests.engine.test_fixtures import expectations  # noqa: F401  (the fixture format)

CASES = sorted((pathlib.Path(__file__).parent / "finetune").glob("*.py"))
# torchvision 0.29.1's files, unpacked beside .venv by scripts/setup-python.sh (never imported)
TORCHVISION_SOURCE = REPO / ".venv" / "torchvision-src"
# torch 2.14.1 with torchvision 0.29.1, where the cases run (scripts/setup-vision.sh)
VISION_PYTHON = REPO / ".venv-vision" / "bin" / "python"


class FolderEnvironment:
    """An environment whose one import path is ``folder`` (what jedi would say of a
    site-packages holding only these packages)."""

    def __init__(self, folder):
        self.folder = str(folder)
        self.paths = [self.folder]

    def locate(self, name):
        package = os.path.join(self.folder, name)
        if os.path.isfile(os.path.join(package, "__init__.py")):
            return [package]
        if os.path.isfile(package + ".py"):
            return [package + ".py"]
        return None
