"""The fuzz cases of fuzz.py (fixed seed, 300 cases): no exception, a JSON report in the form of
``shapelens check --format json``, work within the budget.  More cases by hand:
``python -m tests.engine.fuzz --count 10000 --jobs 2``."""
from __future__ import annotations

import pytest

from tests.engine.fuzz import KINDS, check_case, make_case

CHUNK = 10


@pytest.mark.parametrize("chunk", range(30))
def test_fuzz_cases(chunk):
    for index in range(chunk * CHUNK, (chunk + 1) * CHUNK):
        case = make_case(0, index)
        try:
            check_case(case)
        except AssertionError as exc:
            raise AssertionError("case %d (%s): %r" % (index, case[0], case[1][:500])) from exc


def test_the_cases_cover_every_kind():
    kinds = {make_case(0, i)[0] for i in range(30 * CHUNK)}
    assert kinds == {name for name, _ in KINDS}


def test_cases_are_the_same_on_every_run():
    assert make_case(0, 7) == make_case(0, 7) and make_case(0, 7) != make_case(1, 7)
