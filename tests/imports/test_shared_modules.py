"""One analysis per module, shared: an imported module's top level runs once for every importer
(a ModuleCache on the resolver), again only when it or what it imports changes, and never
carries one importer's changes into another's analysis.  Library code runs within a budget."""
from __future__ import annotations

import textwrap

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.interp import budget
from shapelens.analysis.interp.modules import ModuleCache
from shapelens.analysis.resolver import DictResolver

NETS = textwrap.dedent("""\
    import torch.nn as nn
    from helpers import WIDTH


    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(WIDTH, 2)

        def forward(self, x):
            return self.fc(x)


    model = Net()
    """)

USER = textwrap.dedent("""\
    import torch
    from nets import model, Net

    y = model(torch.randn(3, 8))
    z = Net()(torch.randn(4, 8))
    """)


def files(width=8):
    return {"/ws/nets.py": NETS, "/ws/helpers.py": "WIDTH = %d\n" % width, "/ws/user.py": USER}


def shapes(report):
    return {f.name: f.shape for f in report.shapes}


def test_an_imported_module_runs_once_for_every_importer():
    cache = ModuleCache()
    resolver = DictResolver(files(), cache=cache)
    first = analyze(USER, "/ws/user.py", resolver)
    assert cache.runs == 2                     # nets and helpers
    for _ in range(3):
        again = analyze(USER, "/ws/other.py", resolver)
        assert shapes(again) == shapes(first) == {"y": (3, 2), "z": (4, 2)}
    assert cache.runs == 2 and cache.hits == 3
    assert set(again.dependencies) == {"/ws/nets.py", "/ws/helpers.py"}


def test_an_edit_of_what_a_module_imports_runs_it_again():
    cache = ModuleCache()
    analyze(USER, "/ws/user.py", DictResolver(files(8), cache=cache))
    report = analyze(USER, "/ws/user.py", DictResolver(files(6), cache=cache))
    assert cache.runs == 4                     # helpers changed: it and nets run again
    assert [d.code for d in report.diagnostics] == ["linear-in-features"] * 2


def test_one_importers_change_to_a_shared_value_does_not_leak_into_the_next():
    cache = ModuleCache()
    resolver = DictResolver(files(), cache=cache)
    changer = textwrap.dedent("""\
        import torch
        import torch.nn as nn
        from nets import model

        model.fc = nn.Linear(5, 7)
        y = model(torch.randn(3, 5))
        """)
    changed = analyze(changer, "/ws/changer.py", resolver)
    assert shapes(changed)["y"] == (3, 7)      # it sees its own change
    after = analyze(USER, "/ws/user.py", resolver)
    assert shapes(after) == {"y": (3, 2), "z": (4, 2)}
    assert not after.diagnostics


def test_library_code_past_its_budget_is_unknown_and_the_rest_goes_on():
    slow = textwrap.dedent("""\
        import torch


        def features(x):
            n = 0
            for i in range(200):
                for j in range(200):
                    for k in range(200):
                        n = n + 1
            return torch.cat([x, x], 1)
        """)
    resolver = DictResolver({"/site/slowlib.py": slow}, library_roots=["/site"])
    user = textwrap.dedent("""\
        import torch
        from slowlib import features

        f = features(torch.randn(2, 3))
        g = torch.randn(2, 3) @ torch.randn(3, 5)
        """)
    report = analyze(user, "/ws/user.py", resolver)
    found = shapes(report)
    assert "f" not in found                    # unknown: never a guess
    assert found["g"] == (2, 5)                # the user's own code is analysed to the end
    assert any("budget" in n for n in report.extra["notes"])


def test_a_package_past_its_import_allowance_is_unknown_and_not_run_again(monkeypatch):
    """A package's top level runs on an allowance of its own (not charged to the analysis,
    nor to the package importing it); past it, the package stays unknown, and later analyses
    do not run it again (the server would pay it at every edit)."""
    monkeypatch.setattr(budget, "IMPORT_STEPS", 2_000)
    big = "import torch.nn as nn\nn = 0\n" + "".join(
        "for _ in range(200):\n    n = n + 1\n" for _ in range(2_000 // 200 + 5)) + \
        "LATE = nn.Linear(2, 3)\n"
    small = "import torch.nn as nn\nimport biglib\nFC = nn.Linear(2, 5)\n"
    cache = ModuleCache()
    resolver = DictResolver({"/site/biglib.py": big, "/site/smalllib.py": small},
                            library_roots=["/site"], cache=cache)
    user = ("import torch\nfrom biglib import LATE\nfrom smalllib import FC\n"
            "y = LATE(torch.randn(1, 2))\nz = FC(torch.randn(1, 2))\n")
    first = analyze(user, "/ws/u.py", resolver)
    assert "y" not in shapes(first)
    assert shapes(first)["z"] == (1, 5)         # smalllib ran on its own allowance
    assert first.extra["spent"]["steps"] < 100  # the imports were not charged here
    assert cache.runs == 1                      # smalllib, not biglib
    again = analyze(user, "/ws/u.py", resolver)
    assert "y" not in shapes(again) and shapes(again)["z"] == (1, 5)
    assert cache.runs == 1 and again.extra["spent"]["steps"] < 100


TIMM_LIKE = textwrap.dedent("""\
    import torch.nn as nn

    _model_entrypoints = {}


    def register_model(fn):
        _model_entrypoints[fn.__name__] = fn
        return fn


    def create_model(model_name, **kwargs):
        create_fn = _model_entrypoints[model_name]
        return create_fn(**kwargs)


    class TinyNet(nn.Module):
        def __init__(self, num_classes=1000, in_chans=3):
            super().__init__()
            self.stem = nn.Conv2d(in_chans, 16, 3, stride=2)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.head = nn.Linear(16, num_classes)

        def forward(self, x):
            return self.head(self.pool(self.stem(x)).flatten(1))


    @register_model
    def tinynet_a(**kwargs):
        return TinyNet(**kwargs)
    """)


def test_a_factory_reached_through_a_registry_written_in_plain_code():
    resolver = DictResolver({"/site/zoo/__init__.py": "from .models import create_model\n",
                             "/site/zoo/models.py": TIMM_LIKE}, library_roots=["/site"])
    user = textwrap.dedent("""\
        import torch
        import zoo

        model = zoo.create_model("tinynet_a", num_classes=5, in_chans=1)
        y = model(torch.randn(2, 1, 32, 32))
        bad = model(torch.randn(2, 3, 32, 32))
        other = zoo.create_model("no_such_model")
        """)
    report = analyze(user, "/ws/user.py", resolver)
    assert shapes(report)["y"] == (2, 5)
    assert [(d.code, d.range.start_line) for d in report.diagnostics] == \
        [("conv-in-channels", 6)]


SELF_IMPORTING = textwrap.dedent("""\
    import torch
    import pkg.model as me


    def double(x, again):
        if again:
            return me.double(x, False)
        return torch.cat([x, x], 1)


    y = double(torch.randn(2, 3), True)
    """)


def test_a_file_imported_before_it_is_analysed_is_still_another_module_than_its_import():
    # The analysed file shares the syntax tree of its earlier import (source.parse); the copy
    # of itself it imports stays another module: calling its double is no recursion.
    files = {"/ws/pkg/__init__.py": "", "/ws/pkg/model.py": SELF_IMPORTING,
             "/ws/user.py": "import pkg.model\n"}
    resolver = DictResolver(files, cache=ModuleCache())
    analyze(files["/ws/user.py"], "/ws/user.py", resolver)
    after_import = analyze(SELF_IMPORTING, "/ws/pkg/model.py", resolver)
    alone = analyze(SELF_IMPORTING, "/ws/pkg/model.py", DictResolver(files))
    assert shapes(after_import)["y"] == shapes(alone)["y"] == (2, 6)
    assert after_import == alone


def test_analyses_leave_nothing_of_theirs_on_the_shared_modules():
    """A shared module's classes are read by every later analysis (the server analyses the
    same file at each edit): the instances one analysis built must not stay on them."""
    cache = ModuleCache()
    resolver = DictResolver(files(), cache=cache)
    for _ in range(5):
        analyze(USER, "/ws/user.py", resolver)
    [entry] = [e for (path, _), e in cache.entries.items() if path == "/ws/nets.py"]
    [net] = entry.envs["/ws/nets.py"].classes
    assert net.name == "Net" and net.instances == []


TIMM_REGISTRY = textwrap.dedent("""\
    import sys
    from collections import defaultdict, deque
    from dataclasses import asdict, dataclass, field, replace

    import torch.nn as nn

    _entrypoints = {}
    _pretrained_cfgs = {}


    @dataclass
    class PretrainedCfg:
        url: str = ""
        input_size: tuple = (3, 224, 224)
        num_classes: int = 1000


    @dataclass
    class DefaultCfg:
        tags: deque = field(default_factory=deque)
        cfgs: dict = field(default_factory=dict)


    def generate_default_cfgs(cfgs):
        out = defaultdict(DefaultCfg)
        for name, cfg in cfgs.items():
            model, _, tag = name.partition(".")
            out[model].tags.append(tag)
            out[model].cfgs[tag] = PretrainedCfg(**cfg)
        return out


    def register_model(fn):
        mod = sys.modules[fn.__module__]
        name = fn.__name__
        _entrypoints[name] = fn
        if hasattr(mod, "default_cfgs") and name in mod.default_cfgs:
            default = mod.default_cfgs[name]
            first = default.tags[0]
            _pretrained_cfgs[name] = replace(default.cfgs[first], url="hub/" + name)
        return fn


    def create_model(name, **kwargs):
        cfg = asdict(_pretrained_cfgs.get(name, PretrainedCfg()))
        keep = {"num_classes"}
        for key, value in cfg.items():
            if key in keep:
                kwargs.setdefault(key, value)
        kwargs.setdefault("in_chans", cfg["input_size"][0])
        return _entrypoints[name](**kwargs)
    """)

TIMM_MODELS = textwrap.dedent("""\
    import torch.nn as nn

    from .registry import generate_default_cfgs, register_model


    class TinyNet(nn.Module):
        def __init__(self, num_classes=1000, in_chans=3):
            super().__init__()
            self.stem = nn.Conv2d(in_chans, 16, 3, stride=2)
            self.head = nn.Linear(16, num_classes)

        def forward(self, x):
            return self.head(self.stem(x).mean((2, 3)))


    default_cfgs = generate_default_cfgs({
        "tinynet_a.in22k": {"num_classes": 21841},
        "tinynet_a.in1k": {"num_classes": 1000},
        "tinynet_b.gray": {"input_size": (1, 64, 64)},
    })


    @register_model
    def tinynet_a(**kwargs):
        return TinyNet(**kwargs)


    @register_model
    def tinynet_b(**kwargs):
        return TinyNet(**kwargs)
    """)


def test_a_registry_with_default_configurations_as_timm_writes_it(tmp_path):
    """The number of classes and input channels come from the model's first pretrained
    configuration (timm's ``tiny_vit_5m_224`` has 21,841 classes): sys.modules, a defaultdict
    of dataclasses with ``field(default_factory=...)``, ``replace`` and ``asdict``, a set."""
    files = {"zoo/__init__.py": "from .registry import create_model\nfrom . import models\n",
             "zoo/registry.py": TIMM_REGISTRY, "zoo/models.py": TIMM_MODELS}
    user = textwrap.dedent("""\
        import torch
        import zoo

        a = zoo.create_model("tinynet_a")(torch.randn(2, 3, 32, 32))
        b = zoo.create_model("tinynet_b", num_classes=4)(torch.randn(2, 1, 32, 32))
        """)
    import sys
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    torch = pytest.importorskip("torch")
    scope: dict = {}
    sys.path.insert(0, str(tmp_path))
    try:
        exec(compile(user, "user.py", "exec"), scope)
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == "zoo" or m.startswith("zoo.")]:
            del sys.modules[module]
    assert tuple(scope["a"].shape) == (2, 21841) and isinstance(scope["b"], torch.Tensor)
    resolver = DictResolver({"/site/" + k: v for k, v in files.items()},
                            library_roots=["/site"])
    report = analyze(user, "/ws/user.py", resolver)
    assert shapes(report) == {"a": (2, 21841), "b": (2, 4)}
    assert not report.diagnostics


SHARED_HELPERS = textwrap.dedent("""\
    import torch.nn as nn

    WIDTHS = [8]


    def make_divisible(v, divisor=8):
        return max(divisor, int(v + divisor / 2) // divisor * divisor)


    def width():
        return WIDTHS[-1]


    def block(c):
        return nn.Conv2d(3, make_divisible(c), 1)
    """)


def test_a_function_of_plain_data_is_analysed_once_for_every_importer():
    """A function of an imported module, called with plain data, that changes nothing and
    returns plain data, is analysed once per run and its result given to every later call,
    here and in later analyses; one that changes something runs each time; and an importer's
    change of a module makes its results unused from then on."""
    cache = ModuleCache()
    counter = "_made = []\n\n\ndef counted(n):\n    _made.append(n)\n    return len(_made)\n"
    resolver = DictResolver({"/site/helpers.py": SHARED_HELPERS, "/site/counter.py": counter},
                            library_roots=["/site"], cache=cache)
    user = textwrap.dedent("""\
        import torch
        import counter
        import helpers

        a = helpers.block(30)(torch.randn(1, 3, 4, 4))
        b = helpers.block(30)(torch.randn(1, 3, 4, 4))
        d = torch.zeros(helpers.width())
        c = torch.zeros(counter.counted(5), counter.counted(5))
        """)
    first = analyze(user, "/ws/u.py", resolver)
    assert shapes(first) == {"a": (1, 32, 4, 4), "b": (1, 32, 4, 4), "c": (1, 2), "d": (8,)}
    assert cache.results_shared == 1                # b's make_divisible(30)
    again = analyze(user, "/ws/u.py", resolver)
    assert shapes(again) == shapes(first)           # counted ran again: 1, 2 again
    assert cache.results_shared == 4                # and a's, b's and width()
    changed = analyze(user.replace("d = ", "helpers.WIDTHS.append(5)\nd = "), "/ws/v.py",
                      resolver)
    assert shapes(changed)["d"] == (5,)             # not the 8 width() gave before
