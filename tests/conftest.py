"""Shared test configuration.

Hypothesis runs derandomized so CI is reproducible: every run draws the same pseudo-random
configurations.  Set HYPOTHESIS_PROFILE=explore for fresh random draws and more examples.
"""
from __future__ import annotations

import os
import pathlib

from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = pathlib.Path(__file__).resolve().parent.parent
# The corpus cases the tests use (copied from ../shared/corpus with their .gt.json ground truth)
# and the evaluation tools they run: the suite needs nothing outside the repository.
CORPUS = REPO / "tests" / "data" / "corpus"
TOOLS = REPO / "tests" / "data" / "tools"
