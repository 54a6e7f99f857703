"""Idioms of real model code, each program run with torch too: every definite shape the
analysis gives for a name equals what the name holds at the end of the run."""
from __future__ import annotations

import ast

import pytest

from shapelens.analysis import analyze
from shapelens.analysis.values import format_shape

PROGRAMS = {
    "parameters: next(), loops, new_zeros": """\
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Embedding(50, 8)
        self.rnn = nn.LSTM(8, 16, 2)

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(2, bsz, 16), weight.new_zeros(2, bsz, 16))

    def forward(self, tokens, hidden):
        for p in self.parameters():
            p.data.uniform_(-0.1, 0.1)
        for name, p in self.named_parameters():
            p.requires_grad = True
        return self.rnn(self.encoder(tokens), hidden)


model = RNNModel()
hidden = model.init_hidden(10)
h0 = hidden[0]
out, state = model(torch.randint(0, 50, (5, 10)), hidden)
""",
    "legacy constructors": """\
import torch
import torch.nn as nn

kernel = nn.Parameter(torch.Tensor(12, 4))
nn.init.xavier_normal_(kernel)
bias = torch.FloatTensor([0.0, 1.0, 2.0, 3.0])
support = torch.mm(torch.randn(7, 12), kernel) + bias
""",
    "numbers read from tensors": """\
import torch

W_target = torch.randn(4, 1) * 5
b_target = torch.randn(1) * 5
x = torch.randn(32, 4)
y = x.mm(W_target) + b_target.item()
scaled = torch.arange(6) * (b_target.item() / 2)
shifted = torch.randn(2, 3) - x.sum().item() ** 2
""",
    "class attributes through type(), parameters registered by name": """\
import torch
import torch.nn as nn


class Config:
    hidden = 7


cfg = Config()
type(cfg).hidden = 8
a = torch.zeros(cfg.hidden)
fc = nn.Linear(2, 3, bias=False)
fc.register_parameter("weight", nn.Parameter(torch.randn(6, 2)))
b = fc(torch.randn(3, 2))
""",
    "argparse defaults": """\
import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser()
parser.add_argument("--latent_dim", type=int, default=10, help="dimensionality of the latent code")
parser.add_argument("--img_size", type=int, default=32)
parser.add_argument("--channels", type=int, default=1)
parser.add_argument("--lr", type=float, default=0.0002)
opt = parser.parse_args([])
img_shape = (opt.channels, opt.img_size, opt.img_size)
z = torch.randn(4, opt.latent_dim)
decoder = nn.Linear(opt.latent_dim, opt.channels * opt.img_size * opt.img_size)
img = decoder(z).view(z.shape[0], *img_shape)
""",
    "a class defined after a branch the analysis cannot decide": """\
import torch
import torch.nn as nn

if torch.cuda.is_available():
    device = torch.device("cuda")
else:
    device = torch.device("cpu")


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)


def main():
    vae = VAE().to(device)
    return vae(torch.randn(2, 4))


if __name__ == "__main__":
    y = main()
""",
    "distributions": """\
import torch
from torch.distributions import Categorical, Normal

probs = torch.softmax(torch.randn(4, 6), dim=-1)
m = Categorical(probs)
action = m.sample()
log_prob = m.log_prob(action)
n = Normal(torch.zeros(3, 2), torch.ones(3, 2))
draws = n.rsample((5,))
mu = n.mean
entropy = m.entropy()
""",
    "weight tying": """\
import torch
import torch.nn as nn

wte = nn.Embedding(50, 24)
lm_head = nn.Linear(24, 50, bias=False)
wte.weight = lm_head.weight
x = wte(torch.randint(0, 50, (2, 16)))
logits = lm_head(x)
""",
    "apply(init) over a layer with children": """\
import math

import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 4, batch_first=True)
        self.fc = nn.Linear(16, 16)
        self.ln = nn.LayerNorm(16)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02 / math.sqrt(2))
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            module.weight.data.fill_(1.0)

    def forward(self, x):
        return self.ln(x + self.fc(self.attn(x, x, x)[0]))


out = Block()(torch.randn(2, 5, 16))
""",
    "apply(fn) that replaces what it is given": """\
import torch
import torch.nn as nn


def widen(m):
    if isinstance(m, nn.Linear):
        m.weight = nn.Parameter(torch.zeros(7, m.in_features))
        m.bias = nn.Parameter(torch.zeros(7))


net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
net.apply(widen)
out = net(torch.randn(2, 4))
""",
    "containers: insert and del renumber the children": """\
import torch
import torch.nn as nn

seq = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 6), nn.Linear(6, 7))
del seq[1:3]
seq.insert(-1, nn.Linear(5, 6))
a = seq(torch.randn(2, 4))
b = seq[1](torch.randn(3, 5))
blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 8)])
blocks.insert(1, nn.Linear(4, 4))
del blocks[0]
h = torch.randn(2, 4)
for blk in blocks:
    h = blk(h)
c = h[:, :3]
d = blocks[1](torch.randn(1, 4))
""",
    "layers dropped at random: a filter the analysis cannot decide": """\
import random
import torch
import torch.nn as nn


def dropout_layers(layers, dropout):
    to_drop = torch.zeros(len(layers)).uniform_(0., 1.) < dropout
    return [layer for (layer, drop) in zip(layers, to_drop) if not drop]


class Blocks(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.ModuleList([nn.Linear(8, 8), nn.LayerNorm(8)])
                                     for _ in range(3)])
        self.extra = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 8)])

    def forward(self, x):
        for lin, norm in dropout_layers(self.layers, 0.5):
            x = norm(lin(x)) + x
        for layer in [m for m in self.extra if random.random() > 0.5]:
            x = layer(x)
        return x


out = Blocks()(torch.randn(2, 5, 8))
""",
    "configuration from locals(), grouped by a prefix": """\
import torch
import torch.nn as nn


def group_dict_by_key(cond, d):
    return_val = [dict(), dict()]
    for key in d.keys():
        match = bool(cond(key))
        ind = int(not match)
        return_val[ind][key] = d[key]
    return (*return_val,)


def group_by_key_prefix_and_remove_prefix(prefix, d):
    kwargs_with_prefix, kwargs = group_dict_by_key(lambda x: x.startswith(prefix), d)
    kwargs_without_prefix = dict(map(lambda x: (x[0][len(prefix):], x[1]),
                                     tuple(kwargs_with_prefix.items())))
    return kwargs_without_prefix, kwargs


class Net(nn.Module):
    def __init__(self, s1_dim=8, s2_dim=16, other=3):
        super().__init__()
        kwargs = dict(locals())
        self.count = torch.zeros(len(kwargs))
        layers = []
        dim = 4
        for prefix in ("s1", "s2"):
            config, kwargs = group_by_key_prefix_and_remove_prefix(f"{prefix}_", kwargs)
            layers.append(nn.Linear(dim, config["dim"]))
            dim = config["dim"]
        self.layers = nn.Sequential(*layers)
        self.tag = torch.zeros(len(b"abc"[1:]), "xyz"[2:][0] == "z")

    def forward(self, x):
        return self.layers(x)


net = Net(s2_dim=5)
y = net(torch.randn(2, 4))
count = net.count
tag = net.tag
""",
    "a tensor is not None": """\
import torch
import torch.nn as nn


def exists(val):
    return val is not None


class Tokens(nn.Module):
    def __init__(self, dim, pool="cls"):
        super().__init__()
        self.cls = nn.Parameter(torch.randn(1, 1, dim)) if pool == "cls" else None

    def forward(self, x, mask=None):
        if exists(self.cls):
            x = torch.cat((self.cls.expand(x.shape[0], 1, -1), x), dim=1)
        if mask is not None:
            x = x[:, :mask.shape[1]]
        return x


out = Tokens(8)(torch.randn(2, 4, 8))
masked = Tokens(8)(torch.randn(2, 4, 8), torch.ones(2, 3))
""",
    "numpy sizes, Variable, a tensor type chosen by the device": """\
import math

import numpy as np
import torch
import torch.nn as nn
from torch.autograd import Variable

cuda = True if torch.cuda.is_available() else False
Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
img_shape = (1, 28, 28)
gen = nn.Sequential(nn.Linear(10, int(np.prod(img_shape))), nn.Tanh())
z = Variable(Tensor(np.random.normal(0, 1, (4, 10))))
img = gen(z).view(4, *img_shape)
flat = torch.zeros(math.prod(img_shape) + int(np.sum((1, 2))))
empty = torch.zeros(math.prod([]))
""",
    "a tree of blocks: one class built and run recursively": """\
import torch
import torch.nn as nn


class Tree(nn.Module):
    def __init__(self, cin, cout, level=1, stride=1):
        super().__init__()
        if level == 1:
            self.left = nn.Conv2d(cin, cout, 3, stride, 1)
            self.right = nn.Conv2d(cout, cout, 3, 1, 1)
        else:
            self.left = Tree(cin, cout, level - 1, stride)
            self.right = Tree(cout, cout, level - 1, 1)
        self.root = nn.Conv2d(2 * cout, cout, 1)

    def forward(self, x):
        a = self.left(x)
        b = self.right(a)
        return self.root(torch.cat([a, b], 1))


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


out = Tree(3, 8, level=3, stride=2)(torch.randn(2, 3, 16, 16))
levels = torch.zeros(depth(4))
""",
    "sub-modules set and read by name through __setattr__/__getattr__": """\
import torch
import torch.nn as nn


class Levels(nn.Module):
    def __init__(self, level):
        super().__init__()
        self.level = level
        for i in reversed(range(1, level)):
            self.__setattr__("level_%d" % i, nn.Linear(4 * i, 4 * (i + 1)))

    def forward(self, x):
        for i in range(1, self.level):
            x = self.__getattr__("level_%d" % i)(x)
        return x


out = Levels(4)(torch.randn(2, 4))
""",
    "the sub-modules torch builds inside a layer": """\
import math

import torch
import torch.nn as nn


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp):
        super().__init__(d_model=ninp, nhead=2, dim_feedforward=32, num_encoder_layers=2)
        self.src_mask = None
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.decoder = nn.Linear(ninp, ntoken)

    def forward(self, src):
        if self.src_mask is None or self.src_mask.size(0) != len(src):
            self.src_mask = torch.log(torch.tril(torch.ones(len(src), len(src))))
        src = self.input_emb(src) * math.sqrt(16)
        output = self.encoder(src, mask=self.src_mask)
        return self.decoder(output)


class Scaled(nn.Conv2d):
    def __init__(self):
        super().__init__(3, 8, 3, padding=1)
        self.scale = 2.0


out = TransformerModel(50, 16)(torch.randint(0, 50, (7, 3)))
t = nn.Transformer(d_model=16, nhead=2, dim_feedforward=32, num_encoder_layers=2)
memory = t.encoder(torch.randn(7, 3, 16))
block = t.encoder.layers[1](torch.randn(5, 2, 16))
conv = Scaled()(torch.randn(1, 3, 10, 10))
""",
    "numpy arrays from lists, one-hot labels": """\
import numpy as np
import torch
from torch.autograd import Variable

FloatTensor = torch.FloatTensor


def to_categorical(y, num_columns):
    y_cat = np.zeros((y.shape[0], num_columns))
    y_cat[range(y.shape[0]), y] = 1.0
    return Variable(FloatTensor(y_cat))


labels = to_categorical(np.array([n for _ in range(3) for n in range(4)]), num_columns=4)
grid = torch.from_numpy(np.array([[1, 2, 3], [4, 5, 6]]))
mixed = torch.from_numpy(np.asarray([1, 2.5, True]))
""",
    "shapes built with sum() of lists": """\
import math

import torch

B, C = 2, 8
cur = [4, 6]
strides = [2, 3]
new_shape = [B] + sum([[i, s] for i, s in zip(cur, strides)], []) + [C]
x = torch.zeros(2, 4 * 2, 6 * 3, 8).view(new_shape)
L = len(new_shape)
y = x.permute([0] + list(range(2, L - 1, 2)) + list(range(1, L - 1, 2)) + [L - 1])
z = y.flatten(0, len(strides)).reshape(-1, math.prod(cur), C)
n = torch.zeros(sum([1, 2, 3]), sum((4,), 1))
""",
    "a @dataclass base's __init__ through super(), __post_init__, copy.copy": """\
import copy
from dataclasses import dataclass

import torch
import torch.nn as nn


@dataclass
class BlockConfig:
    cin: int
    cout: int
    stride: int = 1

    def __post_init__(self):
        self.cout = self.cout * 2


class WideConfig(BlockConfig):
    def __init__(self, cin, cout, width=1.0):
        super().__init__(int(cin * width), int(cout * width), stride=2)


cfg = copy.copy(WideConfig(3, 4))
y = nn.Conv2d(cfg.cin, cfg.cout, 3, stride=cfg.stride)(torch.randn(1, 3, 9, 9))
""",
    "eager mode: not scripting, tracing or compiling": """\
import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)

    def forward(self, x):
        y = self.fc(x)
        if torch.jit.is_scripting() or torch.jit.is_tracing() or torch.compiler.is_compiling():
            return (y, y)
        return y


out = Net()(torch.randn(2, 4))
""",
    "modules chosen by numbers the analysis cannot see (stochastic depth rates)": """\
import numpy as np
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(p) if p > 0 else nn.Identity()

    def forward(self, x):
        return x + self.drop(self.fc(x))


rates = np.linspace(0, 0.2, 3).tolist()
blocks = nn.Sequential(*[Block(p) for p in rates])
h = blocks(torch.randn(2, 8))
dpr = [r.item() for r in torch.linspace(0, 0.1, 4)]
more = nn.Sequential(*[Block(p) for p in dpr])
g = more(torch.randn(5, 8))
""",
    "a conv's attributes, tensor_split at indices": """\
import torch
import torch.nn as nn

conv = nn.Conv2d(3, 16, (3, 5), padding=(1, 2), bias=False)
head = nn.Linear(conv.out_channels, 10)
logits = head(torch.randn(2, conv.out_channels))
w = conv.weight
k = torch.zeros(conv.kernel_size)
up = nn.ConvTranspose2d(4, 6, 3, groups=2)
uw = up.weight
ub = up.bias
x = torch.randn(2, 7, 16)
cls_token, rest = torch.tensor_split(x, indices=(1,), dim=1)
a = x.tensor_split([2, -2], dim=1)[1]
""",
    "a class of its own with __setitem__ and __getitem__": """\
import torch


class Store:
    def __init__(self):
        self.data = {}

    def __setitem__(self, key, value):
        self.data[key] = value

    def __getitem__(self, key):
        return self.data[key]


s = Store()
s["x"] = torch.zeros(3, 4)
y = s["x"] + 1
""",
    "sets, defaultdict, deque, dataclass fields and replace (timm's model registry)": """\
import copy
import functools
from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn as nn


@dataclass
class Cfg:
    input_size: tuple = (3, 32, 32)
    num_classes: int = 10
    tags: deque = field(default_factory=deque)


@dataclass
class Group:
    cfgs: dict = field(default_factory=dict)
    names: list = field(default_factory=list)


WIDTH = 6
REGISTRY = {}


def register(fn):
    REGISTRY[fn.__name__] = (fn, WIDTH)
    return fn


@register
def tiny(num_classes):
    return nn.Linear(REGISTRY["tiny"][1], num_classes)


keep = {"num_classes", "input_size"}
keep.discard("input_size")
wide = replace(Cfg(), num_classes=7)
cfg = {k: v for k, v in asdict(wide).items() if k in keep}
groups = defaultdict(Group)
groups["a"].names.append("x")
groups["b"].cfgs["t"] = wide
tags = deque(["m"])
tags.appendleft("first")
head = REGISTRY["tiny"][0](**cfg)
logits = head(torch.randn(2, 6))
sizes = torch.zeros(len(groups), len(keep), len(tags), groups["b"].cfgs["t"].num_classes)
kept = copy.copy(keep)
kept.add("more")
more = torch.zeros(len(keep), len(kept), len(tags.popleft()))
norm = "batchnorm"
if isinstance(norm, functools.partial):      # timm's get_norm_act_layer
    norm = norm.func
kinds = torch.zeros(1 if isinstance(norm, str) else 2, 1 if isinstance(tiny, type) else 2)
""",
    "hasattr of torch's modules (timm's init loops)": """\
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)

    def zero_init_last(self):
        nn.init.zeros_(self.bn.weight)

    def forward(self, x):
        return self.bn(self.conv(x))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.blocks = nn.Sequential(Block(), Block())
        self.head = nn.Linear(4, 5)
        for m in self.modules():
            if hasattr(m, "zero_init_last"):
                m.zero_init_last()
        self.has = [getattr(m, "_is_cn", False) for m in self.blocks]

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean((2, 3)))


out = Net()(torch.randn(2, 3, 8, 8))
flags = torch.zeros(len([m for m in Net().modules() if hasattr(m, "weight")]))
""",
}


@pytest.mark.parametrize("name", PROGRAMS)
def test_idiom_agrees_with_torch(name):
    torch = pytest.importorskip("torch")
    source = PROGRAMS[name]
    scope: dict = {"__name__": "__main__"}
    exec(compile(source, "<idiom>", "exec"), scope)
    report = analyze(source)
    inside = {line for node in ast.walk(ast.parse(source))
              if isinstance(node, (ast.FunctionDef, ast.ClassDef))
              for line in range(node.lineno, node.end_lineno + 1)}
    top = {}
    for fact in report.shapes:
        if fact.range.start_line not in inside:     # module-level names: their final values
            top.setdefault(fact.name, set()).add(format_shape(fact.shape))
    expected = {k: v for k, v in scope.items() if isinstance(v, torch.Tensor)}
    assert expected
    for var, tensor in expected.items():
        if var == "h" and name.startswith("containers"):
            continue                                    # bound twice at module level
        if name.endswith("replaces what it is given") or var == "b" and "registered" in name:
            # unknown is right; a shape is not
            assert all("?" in s for s in top.get(var, {"?"})), (var, top.get(var))
            continue
        assert top.get(var) == {format_shape(tuple(tensor.shape))}, (var, top.get(var))
    assert not report.diagnostics


def test_a_change_inside_a_layers_sub_modules_makes_the_layer_unknown():
    """torch raises on the first call (linear2 of layer 0 replaced); the analysis must not
    give the encoder's old output shape, nor the conv's after its padding changed."""
    report = analyze("""\
import torch
import torch.nn as nn

t = nn.Transformer(d_model=16, nhead=2, dim_feedforward=32, num_encoder_layers=2)
t.encoder.layers[0].linear2 = nn.Linear(32, 8)
e = t.encoder(torch.randn(7, 3, 16))
f = t(torch.randn(7, 3, 16), torch.randn(5, 3, 16))


class Padded(nn.Conv2d):
    def __init__(self):
        super().__init__(3, 8, 3)
        self.padding = (2, 2)


c = Padded()(torch.randn(1, 3, 10, 10))
""")
    shapes = {f.name: f.shape for f in report.shapes}
    assert shapes.get("e") is None and shapes.get("f") is None
    assert shapes.get("c") in (None, (1, 8, None, None))
    assert not [d for d in report.diagnostics if d.severity == "error"]


def test_an_operand_the_analysis_cannot_see_leaves_the_rank_unknown():
    """It may be a tensor of a higher rank: ``x + u`` is [3, 1, 2, 4] in torch, not rank 2."""
    torch = pytest.importorskip("torch")
    source = """\
import torch

u = eval("torch.ones(3, 1, 2, 4)")
y = torch.ones(2, 4) + u
dims = eval("(3, 4)")
v = torch.ones(12).view(dims)
scale = float(torch.ones(1).sum())
z = torch.ones(2, 4) * scale
"""
    scope: dict = {}
    exec(source, scope)
    shapes = {f.name: f.shape for f in analyze(source).shapes}
    assert tuple(scope["y"].shape) == (3, 1, 2, 4)
    assert shapes.get("y") is None
    assert tuple(scope["v"].shape) == (3, 4) and shapes.get("v") is None   # not rank 1
    assert shapes["z"] == tuple(scope["z"].shape) == (2, 4)      # float() gives a number


def test_a_key_or_attribute_the_analysis_cannot_see_is_not_dropped():
    """Each was a wrong shape: a dict entry under a key the analysis cannot see was left out
    (len 1, not 2; also by OrderedDict, which dropped its keyword arguments too), and
    getattr's default was taken for an attribute that exists but whose value the analysis
    cannot see (torchvision's segmentation backbones build such dicts)."""
    torch = pytest.importorskip("torch")
    source = """\
import random
from collections import OrderedDict

import torch


class A:
    pass


k = str(random.randint(0, 3))
d = {k: "low", "x": "high"}
t = torch.zeros(len(d))
e = {str(a): b for a, b in d.items()}
u = torch.zeros(len(e))
a = A()
a.n = random.randint(5, 6)
v = torch.zeros(getattr(a, "n", 3))
w = torch.zeros(getattr(a, "missing", 3))
o = OrderedDict([(k, 1), ("b", 2)])
to = torch.zeros(len(o))
p = OrderedDict(x=1, y=2)
tp = torch.zeros(len(p))
"""
    scope: dict = {}
    exec(source, scope)
    shapes = {f.name: f.shape for f in analyze(source).shapes}
    assert tuple(scope["t"].shape) == (2,) and shapes.get("t") in (None, (2,))
    assert shapes.get("u") in (None, (2,))
    assert tuple(scope["v"].shape) in ((5,), (6,)) and shapes.get("v") is None
    assert shapes["w"] == tuple(scope["w"].shape) == (3,)
    assert shapes.get("to") in (None, (2,))
    assert shapes["tp"] == tuple(scope["tp"].shape) == (2,)     # keyword arguments were lost


def test_each_call_of_a_module_runs_again():
    """A forward's result was remembered by instance and input shapes: a second call returned
    the first one's list (appended to since), its tensor (changed in place since), and ignored
    what the first call changed in the module (a counter) or what changed it between calls."""
    torch = pytest.importorskip("torch")
    source = """\
import torch
import torch.nn as nn


class Listing(nn.Module):
    def forward(self, x):
        return [x]


class Counting(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls > 1:
            return x
        return self.fc(x)


m = Listing()
first = m(torch.randn(2))
first.append(torch.randn(3))
t = torch.zeros(len(m(torch.randn(2))))
c = m(torch.randn(2))[0]
c.unsqueeze_(0)
d = m(torch.randn(2))[0]
n = Counting()
a = n(torch.randn(2, 4))
b = n(torch.randn(2, 4))
"""
    scope: dict = {}
    exec(source, scope)
    shapes = {f.name: f.shape for f in analyze(source).shapes}
    for name in ("t", "d", "a", "b"):
        assert shapes[name] == tuple(scope[name].shape), name
