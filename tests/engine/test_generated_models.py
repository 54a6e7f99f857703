"""End to end against torch: random nn.Module programs (modelgen.py) are analysed from source
and executed with torch.  For every program:

* every line torch ran has the shape torch computed, and the analysis knows it (every op the
  generator uses is modelled, so an unknown shape here is a gap, not an acceptable answer);
* when torch raised, the analysis reports an error on the failing line of forward;
* when torch ran clean, the analysis reports no error at all.
"""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from shapelens.analysis import analyze

from tests.engine.modelgen import generate, run_with_torch


def check_program(seed):
    source, _ = generate(seed)
    truth, error_line, error = run_with_torch(source)
    report = analyze(source, "<gen>")
    assert not report.extra["internal_errors"], report.extra["internal_errors"]
    got = {}
    for fact in report.shapes:
        got.setdefault(fact.range.start_line, set()).add(fact.shape)
    problems = []
    for line, (name, shape) in truth.items():
        if 0 in shape:
            continue  # empty tensors: torch's own backends disagree on what follows
        shapes = got.get(line)
        if not shapes:
            problems.append("line %d (%s): no shape, torch %s" % (line, name, shape))
        elif shapes != {shape}:
            problems.append("line %d (%s): analysed %s, torch %s" % (line, name, shapes, shape))
    errors = [d for d in report.diagnostics if d.severity == "error"]
    if error is None:
        if errors:
            problems.append("false error(s) on a program that runs: %s" %
                            ["%d: %s" % (d.range.start_line, d.message) for d in errors])
    elif not any(d.range.start_line == error_line for d in errors):
        problems.append("torch raised %s: %s at line %s; analysis errors: %s" % (
            type(error).__name__, str(error)[:200], error_line,
            ["%d: %s" % (d.range.start_line, d.message[:80]) for d in errors]))
    assert not problems, "\n".join(problems) + "\n\n" + source


@settings(max_examples=300)
@given(st.integers(0, 2 ** 32 - 1))
def test_random_programs_agree_with_torch(seed):
    check_program(seed)


def test_generator_makes_both_kinds_of_program():
    """The generator is worth its salt: it makes programs that run and programs that fail."""
    outcomes = {run_with_torch(generate(seed)[0])[2] is None for seed in range(60)}
    assert outcomes == {True, False}
