"""Data-pipeline fixtures (tests/data/fixtures), checked like the engine's: the shapes on the
lines, each diagnostic where it is expected and none elsewhere, quick fixes that remove their
diagnostic.  tests/data/vision/test_fixtures_vs_torch.py runs the same files with torch."""
from __future__ import annotations

import pathlib

import pytest

from tests.engine.test_fixtures import test_fixture as check_fixture

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_data_fixture(path):
    check_fixture(path)
