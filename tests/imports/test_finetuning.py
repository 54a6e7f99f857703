"""Fine-tuning torchvision models, analysed from torchvision's own source: heads and stems
replaced, frozen backbones, truncated backbones, the wrong number of classes.  Each case file
in finetune/ carries its expectations (``# expect-shape:``, ``# expect:``, as the engine's
fixtures); test_finetuning_vs_torch.py checks every one of them against a torch run."""
from __future__ import annotations

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.interp.modules import ModuleCache
from shapelens.analysis.resolver import WorkspaceResolver
from shapelens.analysis.values import format_shape

from .finetune_helpers import CASES, TORCHVISION_SOURCE, FolderEnvironment, expectations

CACHE = ModuleCache()      # one run: torchvision's modules are analysed once for all cases


def analyse_case(path):
    assert (TORCHVISION_SOURCE / "torchvision" / "models" / "resnet.py").is_file(), \
        "torchvision's source is missing: run scripts/setup-python.sh"
    text = path.read_text()
    resolver = WorkspaceResolver([str(path.parent)],
                                 environment=FolderEnvironment(TORCHVISION_SOURCE), cache=CACHE)
    return text, analyze(text, str(path), resolver)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_case(path):
    text, report = analyse_case(path)
    expect = expectations(text)
    assert not report.extra["internal_errors"], report.extra["internal_errors"]
    assert expect["shape"] or expect["diag"], "a case must expect something"
    seen = {}
    for fact in report.shapes:
        seen.setdefault(fact.range.start_line, set()).add(format_shape(fact.shape))
    problems = ["line %d: shape %s, expected %s" % (line, sorted(seen.get(line, ())), want)
                for line, want in expect["shape"].items() if sorted(seen.get(line, ())) != want]
    got = {}
    for d in report.diagnostics:
        if d.severity in ("error", "warning"):
            got.setdefault(d.range.start_line, []).append(d.code)
    wanted = {line: [code for code, _ in items] for line, items in expect["diag"].items()}
    if got != wanted:
        problems.append("diagnostics %s, expected %s" % (got, wanted))
    assert not problems, "\n".join(problems)


def test_an_error_inside_the_library_names_where_the_layer_is_defined():
    path = next(p for p in CASES if p.stem == "grayscale_stem")
    _, report = analyse_case(path)
    [error] = report.diagnostics
    assert error.severity == "error"
    assert error.message.startswith("Given groups=1, weight of size [64, 3, 7, 7], expected "
                                    "input[8, 1, 224, 224] to have 3 channels, but got 1")
    assert "torchvision/models/resnet.py:" in error.message
    related = {r.message: r.loc for r in error.related}
    assert related["conv1 defined here"].path.endswith("torchvision/models/resnet.py")
    assert not error.fixes        # the fix would edit torchvision's file: none is offered


def test_library_layers_named_in_the_file_carry_where_they_are_defined():
    path = next(p for p in CASES if p.stem == "head_replaced")
    _, report = analyse_case(path)
    by_name = {}
    for layer in report.layers:
        by_name.setdefault(layer.name, []).append(layer)
    # model.fc read for its in_features: torchvision's layer; the new head: this file's
    [old_fc, new_fc] = sorted(by_name["fc"], key=lambda l: l.defined_in is None)
    assert old_fc.defined_in.startswith("torchvision/models/resnet.py:")
    assert old_fc.loc.path.endswith("torchvision/models/resnet.py")
    assert new_fc.defined_in is None and new_fc.calls[0].output == (4, 5)


def test_the_hover_on_a_library_layer_links_to_its_definition():
    from shapelens.server.hover import layer_markdown
    path = next(p for p in CASES if p.stem == "head_replaced")
    _, report = analyse_case(path)
    old_fc = next(l for l in report.layers if l.name == "fc" and l.defined_in)
    text = layer_markdown(old_fc)
    assert "`Linear(512, 1000)`" in text
    line = old_fc.loc.range.start_line
    assert "defined in [torchvision/models/resnet.py:%d](file://" % line in text
    assert text.rstrip().endswith("torchvision/models/resnet.py#L%d)" % line)


def test_torchvision_is_analysed_once_for_every_importer():
    """Its model modules register themselves in another module's registry while they are
    imported: that is part of importing them, and leaves every module shareable."""
    cache = ModuleCache()
    env = FolderEnvironment(TORCHVISION_SOURCE)
    reports = []
    for path in CASES + CASES:
        resolver = WorkspaceResolver([str(path.parent)], environment=env, cache=cache)
        reports.append(analyze(path.read_text(), str(path), resolver))
        if len(reports) == 1:
            first_runs = cache.runs
    assert first_runs > 50                  # torchvision.models and what it imports
    assert cache.runs == first_runs         # ... run once, then shared
    assert cache.hits >= len(CASES) * 2 - 1
    assert [r.shapes for r in reports[:len(CASES)]] == [r.shapes for r in reports[len(CASES):]]
