"""Helpers for the probe tests: the corpus location and a one-call probe of a snippet."""
from __future__ import annotations

import pathlib
import textwrap

import pytest

from shapelens.probe.runner import ProbeResult, run_probe

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "data" / "corpus"
GROUNDTRUTH_TOOL = REPO / "tests" / "data" / "tools" / "groundtruth.py"


def corpus_cases() -> list[pathlib.Path]:
    """The corpus case files; fails (never skips) when the corpus is not where it should be."""
    cases = sorted(CORPUS.glob("*.py"))
    if not cases:
        pytest.fail("the ShapeLens corpus is missing: expected case files in %s "
                    "(tests/data/corpus in the repository)" % CORPUS, pytrace=False)
    return cases


def probe_source(tmp_path: pathlib.Path, text: str, *, name: str = "case.py",
                 device: str = "cpu", timeout_s: float = 20, **options) -> ProbeResult:
    """Write ``text`` (dedented) to ``tmp_path/name`` and probe it; ``samples``, ``dims`` and
    ``source`` (an unsaved buffer) go into the request, the rest to ``run_probe``."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    request = {"path": str(path), "device": device}
    for key in ("samples", "dims", "source"):
        if key in options:
            request[key] = options.pop(key)
    return run_probe(request, timeout_s=timeout_s, **options)


def facts_of(result: ProbeResult) -> dict[tuple[int, str], list[list[int]]]:
    """{(line, name): [shape, ...]} of a result."""
    return {(f.line, f.name): [list(s) for s in f.shapes] for f in result.facts}
