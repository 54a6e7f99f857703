"""``shapelens summary FILE[::Class]`` and the views of a shape summary
(``analysis/summary.py``): torchinfo's text table, Markdown, JSON.

The JSON form is what ``shapelens summary --format json`` prints and what the language server's
``shapelens/summary`` request returns (lines 1-based, columns 1-based; dims are ints, strings
that are Python integer expressions over the symbolic names, or null when not known).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import List, Optional

from .analysis import dims as D
from .analysis.report import Diagnostic, diagnostic_json, loc_json, shape_json
from .analysis.summary import (Summary, SummaryRow, format_mult_adds, format_scaled,
                                mult_adds_unit)
from .analysis.values import format_shape

JSON_VERSION = 1
COLUMNS = ("Input Shape", "Output Shape", "Param #", "Trainable", "Mult-Adds")
COL_WIDTH = 25
SOURCES = {"sample": "sample input", "comment": "# shape: comment", "annotation": "annotation",
           "inferred": "inferred input", "input": "--input", "none": "no input"}


def input_text(summary: Summary) -> str:
    """``[1, 3, 32, 32] (sample input, line 27)``: the input and where it comes from."""
    shapes = ", ".join(format_shape(shape) for shape, _ in summary.inputs) or "none"
    source = SOURCES.get(summary.source, summary.source)
    if summary.source == "input":
        return "%s (%s)" % (shapes, source)
    if summary.source.startswith("within "):
        return "%s (inside %s's forward, line %d)" % (shapes, summary.source[7:], summary.line)
    return "%s (%s, line %d)" % (shapes, source, summary.line)


def layer_label(row: SummaryRow, model: str) -> str:
    """torchinfo's "Layer (type (var_name):depth-idx)" cell, with its tree prefix."""
    name = "%s (%s)" % (row.kind, row.name if row.path else row.kind)
    if row.depth > 0:
        name += ": %d-%d" % (row.depth, row.depth_index)
    return tree_prefix(row.depth) + name


def tree_prefix(depth: int) -> str:
    if depth == 0:
        return ""
    if depth == 1:
        return "├─"
    return "│    " * (depth - 1) + "└─"


def cells(row: SummaryRow) -> List[str]:
    if row.status == "failed":
        output = "✗ %s" % (row.diagnostic.code if row.diagnostic else "fails")
    elif not row.called or row.status == "incomplete":
        output = "--"
    else:
        output = format_shape(row.output)
    return [format_shape(row.input) if row.called else "--", output, row.params_text,
            row.trainable_text, row.macs_text]


def totals_lines(summary: Summary) -> List[str]:
    unit, scale = mult_adds_unit(summary.total_mult_adds)
    partial = " (up to the failing call)" if summary.failure is not None else ""
    return [
        "Total params: %s" % _count(summary.total_params),
        "Trainable params: %s" % _count(summary.trainable_params),
        "Non-trainable params: %s" % _count(summary.non_trainable_params),
        "Total mult-adds (%s): %s%s" % (unit, format_scaled(summary.total_mult_adds, scale),
                                        partial),
    ], [
        "Input size (MB): %s" % format_scaled(summary.input_bytes, 1e6),
        "Forward/backward pass size (MB): %s%s" % (format_scaled(summary.output_bytes, 1e6),
                                                   partial),
        "Params size (MB): %s" % format_scaled(summary.param_bytes, 1e6),
        "Estimated Total Size (MB): %s" % format_scaled(summary.total_bytes, 1e6),
    ]


def totals_sentence(summary: Summary) -> str:
    """One line for a hover: parameters, trainable when not all, and the mult-adds of the
    input (up to the failing call)."""
    parts = ["parameters: %s" % _count(summary.total_params)]
    if summary.trainable_params != summary.total_params:
        parts.append("trainable: %s" % _count(summary.trainable_params))
    parts.append("mult-adds: %s for input %s" % (
        format_mult_adds(summary.total_mult_adds),
        ", ".join(format_shape(s) for s, _ in summary.inputs) or "?"))
    if summary.failure is not None:
        parts[-1] += " (up to the failing call, line %d)" % summary.failure.range.start_line
    return " · ".join(parts)


def _count(d) -> str:
    from .analysis.summary import format_count
    return format_count(d)


def to_text(summary: Summary) -> str:
    labels = [layer_label(r, summary.model) for r in summary.rows]
    header = "Layer (type (var_name):depth-idx)"
    name_width = max([40] + [-(-(len(x) + 1) // 5) * 5 for x in labels + [header]])
    width = name_width + COL_WIDTH * len(COLUMNS)

    def line(first, rest):
        out = "%-*s " % (name_width, first)
        out += "".join("%-*s " % (COL_WIDTH, c) for c in rest)
        return out.rstrip()

    lines = ["%s: input %s" % (summary.model, input_text(summary)), "=" * width,
             line(header, COLUMNS), "=" * width]
    for row, label in zip(summary.rows, labels):
        lines.append(line(label, cells(row)))
        if row.status == "failed" and row.diagnostic is not None:
            lines.append("%s✗ line %d: %s" % ("│    " * row.depth if row.depth else "    ",
                                             row.diagnostic.range.start_line,
                                             row.diagnostic.message))
    params, sizes = totals_lines(summary)
    lines += ["=" * width] + params + ["=" * width] + sizes + ["=" * width]
    lines += ["note: %s" % n for n in summary.notes]
    return "\n".join(lines)


def to_markdown(summary: Summary) -> str:
    nbsp = "\u00a0"
    out = ["### %s" % summary.model, "", "Input: %s" % _md(input_text(summary)), "",
           "| Layer (type (var_name):depth-idx) | %s |" % " | ".join(COLUMNS),
           "|---|---|---|--:|---|--:|"]
    for row in summary.rows:
        label = layer_label(row, summary.model).replace(" ", nbsp)
        c = cells(row)
        if row.status == "failed" and row.diagnostic is not None:
            c[1] += " — line %d: %s" % (row.diagnostic.range.start_line, row.diagnostic.message)
        out.append("| %s | %s |" % (_md(label), " | ".join(_md(x) for x in c)))
    params, sizes = totals_lines(summary)
    out.append("")
    out += ["- %s" % _md(x) for x in params + sizes]
    out += ["- note: %s" % _md(n) for n in summary.notes]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _dim(d):
    if d is None or type(d) is int:
        return d
    return D.format_dim(d)


def to_json(summary: Summary, path: str) -> dict:
    rows = []
    for r in summary.rows:
        rows.append({
            "path": r.path, "name": r.name if r.path else r.kind, "type": r.kind,
            "depth": r.depth, "depth_index": r.depth_index, "label": layer_label(r, summary.model),
            "location": loc_json(r.loc, path) if r.loc is not None else None,
            "input": shape_json(r.input) if r.called else None,
            "output": shape_json(r.output) if r.called and r.status == "ok" else None,
            "params": _dim(r.params), "trainable_params": _dim(r.trainable_params),
            "params_text": r.params_text, "trainable": r.trainable_text,
            "mult_adds": _dim(r.macs), "mult_adds_text": r.macs_text,
            "leaf": r.leaf, "called": r.called, "recursive": r.recursive, "call": r.call,
            "status": r.status,
            "diagnostic": _diag(r.diagnostic, path),
        })
    flow = [{"kind": f.kind, "label": f.label, "inputs": list(f.inputs),
             "output": shape_json(f.output), "group": f.group, "call": f.call,
             "location": loc_json(f.loc, path) if f.loc is not None else None,
             "diagnostic": _diag(f.error, path)} for f in summary.flow]
    params, sizes = totals_lines(summary)
    return {
        "version": JSON_VERSION, "path": path, "model": summary.model,
        "source": summary.source, "line": summary.line, "depth": summary.depth,
        "inputs": [{"shape": shape_json(shape), "dtype": dtype}
                   for shape, dtype in summary.inputs],
        "input_text": input_text(summary),
        "rows": rows,
        "totals": {
            "params": _dim(summary.total_params),
            "trainable_params": _dim(summary.trainable_params),
            "non_trainable_params": _dim(summary.non_trainable_params),
            "mult_adds": _dim(summary.total_mult_adds),
            "input_bytes": _dim(summary.input_bytes),
            "forward_backward_bytes": _dim(summary.output_bytes),
            "param_bytes": _dim(summary.param_bytes),
            "total_bytes": _dim(summary.total_bytes),
            "lines": params + sizes,
        },
        "failure": _diag(summary.failure, path),
        "notes": list(summary.notes),
        "flow": flow,
        "calls": [{"path": p, "type": kind, "parent": parent}
                  for p, kind, parent in summary.calls],
    }


def _diag(d: Optional[Diagnostic], path: str):
    return diagnostic_json(d, path) if d is not None else None


class UsageError(Exception):
    pass


def main(argv) -> int:
    """``shapelens summary FILE[::Class]``: exit 0, 1 when a summarised model fails (an error
    diagnostic inside its forward), 2 on usage errors or when there is nothing to summarise."""
    ap = argparse.ArgumentParser(prog="shapelens summary",
                                 description="torchinfo's table of a model, without running it.")
    ap.add_argument("target", help="FILE or FILE::Class")
    ap.add_argument("--input", help='the input shape, e.g. "[N, 3, 224, 224]" or '
                    '"x=[N, 3, 32, 32], mask=[N, 32]"')
    ap.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    ap.add_argument("--depth", type=int, default=3, help="rows down to this nesting (3)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    try:
        summaries = summarize_file(args.target, args.input, args.depth)
    except UsageError as exc:
        print("shapelens: %s" % exc, file=sys.stderr)
        return 2
    path = args.target.split("::", 1)[0]
    if args.format == "json":
        print(json.dumps({"version": JSON_VERSION,
                          "summaries": [to_json(s, path) for s in summaries]}, indent=1))
    else:
        render = to_markdown if args.format == "markdown" else to_text
        print("\n\n".join(render(s) for s in summaries))
    return 1 if any(s.failure is not None for s in summaries) else 0


def summarize_file(target: str, given_input=None, depth=3):
    from .analysis import analyze
    from .analysis.resolver import WorkspaceResolver
    from .analysis.source import parse_shape_comment
    from .analysis.summary import model_names, summarize
    path, _, model = target.partition("::")
    if not os.path.isfile(path):
        raise UsageError("no such file: %s" % path)
    with open(path, encoding="utf-8", errors="replace") as fh:
        text = fh.read()
    inputs = None
    if given_input is not None:
        parsed = parse_shape_comment(0, 0, given_input.strip())
        if parsed.error or (parsed.named is None and parsed.shape is None):
            raise UsageError("--input %r: %s" % (given_input, parsed.error or "no shape"))
        if not model:
            raise UsageError("--input needs FILE::Class")
        inputs = {model: parsed}
    report = analyze(text, path, WorkspaceResolver([os.getcwd()]), inputs)
    names = [model] if model else model_names(report)
    if not names:
        raise UsageError("%s: no model forward to summarise (no sample input, and no input "
                         "could be inferred); name a class and give --input" % path)
    out = []
    for name in names:
        summary = summarize(report, name, depth)
        if summary is None:
            known = [c for c in report.modules]
            if not any(m.name == name for m in known):
                raise UsageError("%s: no nn.Module class %r" % (path, name))
            raise UsageError("%s: no forward of %s was analysed (no sample input, and its "
                             "input could not be inferred); give one with --input" % (path, name))
        out.append(summary)
    return out
