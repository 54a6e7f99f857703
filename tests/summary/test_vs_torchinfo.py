"""The static shape summary equals torchinfo 1.8.0's, on every model of the corpus and examples.

For each model a case file runs (its first outermost forward), torchinfo runs on that module
and input; ``shapelens``'s summary of the same class, from the analysis alone, must have the
same rows (type, name, depth, index), and for each row the same input and output shapes,
parameter counts, mult-adds, the same cells as torchinfo prints them, and the same totals.
Models whose forward raises are compared up to the failing call.  Modules no code calls but
whose input is declared (``# shape:`` comment, jaxtyping) run on that input with the symbolic
sizes of the case's ``# groundtruth:`` header.
"""
from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torchinfo")

from shapelens.analysis import analyze, dims as D  # noqa: E402
from shapelens.analysis.resolver import WorkspaceResolver  # noqa: E402
from shapelens.analysis.summary import summarize  # noqa: E402
from tests.conftest import CORPUS, REPO  # noqa: E402

from .torchinfo_oracle import run_models, torchinfo_table  # noqa: E402

CASES = sorted(CORPUS.glob("*.py")) + sorted((REPO / "examples").glob("*.py")) + \
    sorted((REPO / "tests" / "data" / "summary").glob("*.py"))
# Sizes for the symbolic inputs of examples that declare (or leave to inference) their input
# but do not run it, as their docstrings give them.
EXAMPLE_SIZES = {"unet": {"B": 2}, "inferred_input": {"N": 2, "H": 32, "W": 32},
                 "text_classifier": {"batch": 2, "seq": 16}}


def _header_bindings(text: str) -> dict:
    m = re.search(r"#\s*groundtruth:\s*(.*)", text)
    out = {}
    if m:
        for name, value in re.findall(r"(\w+)\s*=\s*(\d+)", m.group(1)):
            out[name] = int(value)
    return out


def _value(d, bindings):
    return D.evaluate(d, bindings) if d is not None else None


def _shape(shape, bindings):
    return None if shape is None else [_value(d, bindings) for d in shape]


def _unify(static_shape, real_shape, bindings):
    if static_shape is None or len(static_shape) != len(real_shape):
        return
    for d, n in zip(static_shape, real_shape):
        if type(d) is D.Sym and len(d.terms) == 1 and d.const == 0 and d.terms[0][1] == 1 \
                and len(d.terms[0][0]) == 1 and type(d.terms[0][0][0]) is str:
            bindings.setdefault(d.terms[0][0][0], int(n))


def _models(path):
    """[(class name, module, args, bindings)] to compare, and the static report."""
    text = path.read_text(encoding="utf-8")
    report = analyze(text, str(path), WorkspaceResolver([str(REPO)]))
    captured, g = run_models(str(path))
    header = dict(_header_bindings(text), **EXAMPLE_SIZES.get(path.stem, {}))
    out = []
    for name, cap in captured.items():
        out.append((name, cap.module, cap.args, dict(header)))
    for run in report.runs:
        if run.name in captured or run.source not in ("comment", "annotation", "inferred"):
            continue
        cls = g.get(run.name)
        if cls is None or any(n not in header for shape, _ in run.inputs if shape
                              for d in shape for n in D.names_in(d)):
            continue
        try:
            module = cls()
        except TypeError:
            continue
        args = tuple(torch.randn(*_shape(shape, header)) for shape, _ in run.inputs
                     if shape is not None)
        out.append((run.name, module, args, dict(header)))
    return out, report


def compare(summary, table, bindings, model):
    """The differences between the static summary and torchinfo's table, as readable lines."""
    problems = []
    rows = summary.rows
    if len(rows) != len(table.rows):
        problems.append("rows: %s vs torchinfo %s" % (
            [(r.kind, r.depth) for r in rows], [(t.kind, t.depth) for t in table.rows]))
    for r, t in zip(rows, table.rows):
        where = "%s (%s)" % (r.path or model, r.kind)
        name = r.name if r.path else r.kind     # torchinfo names the model by its class

        def check(what, mine, theirs):
            if mine != theirs:
                problems.append("%s %s: %r vs torchinfo %r" % (where, what, mine, theirs))

        check("type", r.kind, t.kind)
        check("name", name, t.var_name)
        check("depth", (r.depth, r.depth_index), (t.depth, t.depth_index))
        executed = r.called and r.status == "ok"
        check("executed", executed, t.executed)
        if executed and t.executed:
            check("input", _shape(r.input, bindings), t.input)
            check("output", _shape(r.output, bindings), t.output)
            check("mult-adds", _value(r.macs, bindings), t.macs)
        check("params", _value(r.params, bindings), t.params)
        check("trainable params", _value(r.trainable_params, bindings), t.trainable_params)
        check("leaf", r.leaf, t.leaf)
        check("recursive", r.recursive, t.recursive)
        check("trainable", r.trainable_text, t.trainable_text)
        if type(r.params) is int:
            check("Param # cell", r.params_text, t.params_text)
        if type(r.macs) is int:
            check("Mult-Adds cell", r.macs_text, t.macs_text)
    # A size may be "?" only where the summary says a dtype's width is not certain.
    sizes_unsure = any(n.startswith("sizes of ") for n in summary.notes)
    for what, mine, theirs in (
            ("total params", summary.total_params, table.total_params),
            ("trainable params", summary.trainable_params, table.trainable_params),
            ("total mult-adds", summary.total_mult_adds, table.total_mult_adds),
            ("forward/backward bytes", summary.output_bytes, table.output_bytes),
            ("param bytes", summary.param_bytes, table.param_bytes),
            ("input bytes", summary.input_bytes, table.input_bytes)):
        if mine is None and sizes_unsure and what.endswith("bytes"):
            continue
        if _value(mine, bindings) != theirs:
            problems.append("%s: %r vs torchinfo %r" % (what, _value(mine, bindings), theirs))
    if (summary.failure is not None) != (table.error is not None):
        problems.append("failure: %s vs torchinfo %r" % (
            summary.failure and summary.failure.message, table.error))
    return problems


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_summary_equals_torchinfo(path):
    models, report = _models(path)
    if not models:
        pytest.skip("no model runs in this file")
    problems = []
    for name, module, args, bindings in models:
        summary = summarize(report, name)
        if summary is None:
            problems.append("%s: no static summary" % name)
            continue
        for (shape, _), arg in zip(summary.inputs, args):
            if isinstance(arg, torch.Tensor):
                _unify(shape, arg.shape, bindings)
        table = torchinfo_table(module, args)
        problems += ["%s: %s" % (name, p) for p in compare(summary, table, bindings, name)]
    assert not problems, "\n".join(problems)


DEPTH_CASES = [CORPUS / "make_layer_sequential.py", CORPUS / "transformer_block.py",
               REPO / "tests" / "data" / "summary" / "shared_and_frozen.py",
               REPO / "tests" / "data" / "summary" / "transformers.py"]


@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("path", DEPTH_CASES, ids=lambda p: p.stem)
def test_depth_equals_torchinfo(path, depth):
    """``--depth D``: the rows down to D, a container at D showing what it holds (its
    parameters and mult-adds summed), as torchinfo's ``depth=D``."""
    models, report = _models(path)
    problems = []
    for name, module, args, bindings in models:
        summary = summarize(report, name, depth)
        for (shape, _), arg in zip(summary.inputs, args):
            if isinstance(arg, torch.Tensor):
                _unify(shape, arg.shape, bindings)
        table = torchinfo_table(module, args, depth)
        assert max(r.depth for r in summary.rows) <= depth
        problems += ["%s: %s" % (name, p) for p in compare(summary, table, bindings, name)]
    assert not problems, "\n".join(problems)
