"""Fixtures for the probe tests."""
from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture(scope="session")
def python_without_torch(tmp_path_factory) -> str:
    """An interpreter that cannot import torch: a fresh venv without pip or site-packages."""
    venv = tmp_path_factory.mktemp("venv-no-torch")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   capture_output=True, timeout=60)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    check = subprocess.run([str(python), "-c", "import torch"], capture_output=True, timeout=30)
    assert check.returncode != 0, "the fresh venv at %s can import torch" % venv
    return str(python)
