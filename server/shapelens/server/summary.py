"""``shapelens/summary``: a model's shape summary (torchinfo's table and the data flow of its
forward) for the VS Code panel, or any editor that asks.

Request params: ``{"textDocument": {"uri": ...}, "position"?: Position, "model"?: name,
"depth"?: int, "input"?: "[N, 3, 224, 224]"}``.  The model is ``model``, else the class around
``position``, else the first one.  The answer (null when the document is not open)::

    {"uri", "version", "models": [names], "model": name | null, "message"?: text,
     "summary": <the JSON of ``shapelens summary --format json``, each row and flow node with
                 "target": {"uri", "range"} (LSP) and "probed": [shapes] after a probe>,
     "markdown": <the same table as Markdown>}

It is answered from the last analysis (an ``input`` runs one of its own).  After every analysis
and probe the server sends ``shapelens/summaryChanged`` ``{"uri", "version"}`` so an open panel
asks again.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Optional

from lsprotocol import types

from shapelens.analysis.report import Report
from shapelens.summary import to_json, to_markdown

from .convert import loc_location
from .feature import LanguageFeature
from .workers import parts_in

logger = logging.getLogger(__name__)

METHOD = "shapelens/summary"
CHANGED = "shapelens/summaryChanged"


def model_choices(report: Report):
    """Models to offer: those with a forward of their own, then classes only called inside
    another model, in file order."""
    from shapelens.analysis.summary import find_run, model_names
    names = model_names(report)
    for module in report.modules:
        if module.name not in names and find_run(report, module.name) is not None:
            names.append(module.name)
    return names


def model_at(report: Report, names, line: int) -> Optional[str]:
    """The model class whose definition is nearest above ``line`` (1-based)."""
    best = None
    for module in report.modules:
        if module.name in names and module.range.start_line <= line and (
                best is None or module.range.start_line > best.range.start_line):
            best = module
    return best.name if best is not None else None


class Summary(LanguageFeature):
    def register(self) -> None:
        self.handle(METHOD, self.summary)

    def analysis_done(self, target) -> None:
        self.changed(target)

    def probe_done(self, target) -> None:
        self.changed(target)

    def changed(self, target) -> None:
        result = target.result
        version = result.snapshot.version if result is not None else None
        try:
            self.server.protocol.notify(CHANGED, {"uri": target.uri, "version": version})
        except Exception:       # the client went away: nothing to tell
            logger.debug("summaryChanged not sent", exc_info=True)

    async def summary(self, params) -> Optional[dict]:
        params = _as_dict(params)
        uri = (params.get("textDocument") or {}).get("uri")
        if not isinstance(uri, str):
            return None
        documents = self.server.documents
        target = documents.target_for(uri)
        if target is None:
            return None
        result = await documents.settled(target)
        if result is None:
            return None
        await parts_in(result.report)      # the model runs' parts follow the diagnostics
        depth = params.get("depth")
        depth = depth if isinstance(depth, int) and 0 <= depth <= 64 else 3
        report = result.report
        names = model_choices(report)
        model = params.get("model") if isinstance(params.get("model"), str) else None
        position = params.get("position")
        if model is None and isinstance(position, dict) and isinstance(position.get("line"), int):
            line = result.snapshot.program_line(uri, position["line"])
            if line is not None:
                model = model_at(report, names, line)
        if model is None and names:
            model = names[0]
        answer = {"uri": uri, "version": result.snapshot.version, "models": names,
                  "model": model, "summary": None, "markdown": ""}
        if model is None:
            answer["message"] = "No model here: ShapeLens follows a model's forward from a " \
                "sample input, a # shape: comment or annotations, or infers its input."
            return answer
        given = params.get("input")
        if isinstance(given, str) and given.strip():
            report, problem = await self.with_input(result, model, given)
            if problem:
                answer["message"] = problem
                return answer
        from shapelens.analysis.summary import summarize
        summary = summarize(report, model, depth)
        if summary is None:
            answer["message"] = "No forward of %s was analysed (no sample input, and its " \
                "input could not be inferred)." % model
            return answer
        answer["summary"] = self.with_targets(summary, result, target)
        answer["markdown"] = to_markdown(summary)
        return answer

    async def with_input(self, result, model: str, given: str):
        """(the report of the analysed text with ``model`` run on ``given``, problem)."""
        from shapelens.analysis import analyze
        from shapelens.analysis.source import parse_shape_comment
        parsed = parse_shape_comment(0, 0, given.strip())
        if parsed.error or (parsed.named is None and parsed.shape is None):
            return None, "input %r: %s" % (given, parsed.error or "no shape")
        snapshot = result.snapshot
        path = snapshot.path or snapshot.key
        documents = self.server.documents
        if documents.workers is None or documents.workers.broken:
            resolver = documents.resolver()
            loop = asyncio.get_running_loop()
            report = await loop.run_in_executor(
                None, lambda: analyze(snapshot.text, path, resolver, {model: parsed}))
            return report, None
        outcome = await documents.workers.submit(
            documents.job(snapshot.text, path, {model: parsed}), lambda outcome: outcome)
        if outcome.report is None:
            return None, "the analysis with this input did not run (%s)" % (
                outcome.failure or "cancelled")
        await parts_in(outcome.report)
        return outcome.report, None

    def with_targets(self, summary, result, target) -> dict:
        """The summary's JSON with LSP locations and, after a probe, probed shapes."""
        snapshot = result.snapshot
        codec = self.server.codec
        read = self.server.documents.reader()
        out = to_json(summary, snapshot.path or snapshot.key)

        def location(loc):
            if loc is None:
                return None
            try:
                found = loc_location(snapshot, codec, loc, read)
            except Exception:
                return None
            return None if found is None else {
                "uri": found.uri, "range": _range_json(found.range)}

        outcome = self.server.feature_of("Probe").current(target)
        facts = outcome.facts if outcome is not None else {}
        flow_probed = []
        for node, entry in zip(summary.flow, out["flow"]):
            entry["target"] = location(node.loc)
            probed = [list(s) for line, name in node.bound for s in facts.get((line, name), ())]
            entry["probed"] = probed
            flow_probed.append(probed)
        by_call = {node.call: probed for node, probed in zip(summary.flow, flow_probed)
                   if node.call >= 0}
        for row, entry in zip(summary.rows, out["rows"]):
            entry["target"] = location(row.loc)
            entry["probed"] = by_call.get(row.call, []) if row.call >= 0 else []
        if summary.failure is not None:
            out["failure"]["target"] = location(_diag_loc(summary.failure))
        out["probe_device"] = outcome.device if outcome is not None else None
        return out


def _diag_loc(diagnostic):
    from shapelens.analysis.report import Loc
    return Loc(diagnostic.range)


def _range_json(r: types.Range) -> dict:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}


def _as_dict(params) -> dict:
    """Request params as a dict (pygls hands custom requests over as a namedtuple-like
    object)."""
    if isinstance(params, dict):
        return params
    if params is None:
        return {}
    try:
        return {k: _as_dict(v) if hasattr(v, "_fields") else v
                for k, v in params._asdict().items()}
    except AttributeError:
        return {}
