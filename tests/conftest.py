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
CORPUS = REPO.parent / "shared" / "corpus"
