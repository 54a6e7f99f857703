"""Random programs that mix what the analysis models with what it cannot see, for a
differential soundness test against torch (test_soundness_differential.py, soundsweep.py).

A program is an ``nn.Module`` whose ``__init__`` builds layers in containers (``Sequential``,
``ModuleList``, ``ModuleDict``, user subclasses of them, plain attributes, layers sized from
config lists, dicts, objects, dataclasses and argparse namespaces), then changes them: with
modelled mutations (``append``, ``add_module``, ``del``, ``update`` ...), inside loops and
branches the analysis cannot decide (``random.random() < 0.5``, an attribute of an object from an
unknown import), through functions it cannot follow (built by ``exec``, imported from a module it
cannot see, reached by ``getattr`` of a string, ``operator.methodcaller``, ``eval``), after
construction at module level, or in place on the tensors of ``forward`` (``unsqueeze_``,
``resize_``, ``.data =``, lists and dicts of tensors mutated in all those ways).

The generator tracks the width of the activation as if every mutation happened (or, for an
undecidable one, as it pleases), so most programs run; now and then a width is made wrong on
purpose, and undecidable mutations make some paths fail.  Nothing here decides what is right:
torch does.  :func:`run_all_paths` runs the program once per outcome of its undecidable draws
(``random.random`` is replaced by a script of draws, every combination is run), recording the
shape of every plain name bound to a tensor on every line and where each run raised.
:func:`compare` then holds the analysis to what it says:

* a shape it reports for a (line, name) that torch bound must be one torch saw there on some run
  (unknown and symbolic dims claim no size, but the rank must agree); a symbolic shape beside a
  concrete one for the same name and line is a hypothetical analysis leaking into a real one;
* an error it reports at a line must be raised by torch at that line on every run that executes
  it (and the line must have raised on some run).

Programs are lists of :class:`Item` s so that a failing program can be shrunk (:func:`reduce`) to
the few items that make it fail.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import random
import sys
import types
from typing import Callable, Optional

FILENAME = "<soundgen>"
OPAQUE = "soundgen_opaque"  # a module that exists only at run time: the analysis cannot see it
P_WRONG = 0.04              # chance that a layer is sized wrong on purpose
MAX_DRAWS = 5               # undecidable draws per run (2 ** MAX_DRAWS runs at most)
MAX_PATHS = 2 ** MAX_DRAWS

LOW, HIGH = 0.2, 0.8        # what random.random() returns for the two outcomes of a draw


# ------------------------------------------------------------------------------ program model

@dataclasses.dataclass
class Item:
    """One piece of a program: lines for each section, and what it needs."""

    tag: str
    role: str = "op"                  # "def" (a target the later items use), "mut" or "op"
    imports: tuple = ()
    prelude: list = dataclasses.field(default_factory=list)   # module level, before the class
    init: list = dataclasses.field(default_factory=list)      # Net.__init__ body
    methods: list = dataclasses.field(default_factory=list)   # Net's other methods (class body)
    forward: list = dataclasses.field(default_factory=list)   # Net.forward body
    post: list = dataclasses.field(default_factory=list)      # module level, after Net()
    requires: tuple = ()              # indices of the items this one needs


@dataclasses.dataclass
class Program:
    seed: int
    items: list
    input_shape: tuple
    second_input: Optional[tuple] = None

    def source(self, keep=None) -> str:
        """The program's text; ``keep``: indices of the items to include (default all)."""
        return "\n".join(text for text, _ in self.lines(keep)) + "\n"

    def lines(self, keep=None):
        """[(line text, index of the item it comes from or None)] of the program."""
        chosen = [(i, it) for i, it in enumerate(self.items) if keep is None or i in keep]
        imports = {"import random", "import torch", "import torch.nn as nn",
                   "import torch.nn.functional as F"}
        for _, it in chosen:
            imports.update(it.imports)
        out = [(ln, None) for ln in sorted(imports, key=lambda s: (s.startswith("from"), s))]
        out += [("", None), ("torch.set_grad_enabled(False)", None), ("", None)]

        def section(name, prefix=""):
            for i, it in chosen:
                for ln in getattr(it, name):
                    out.append(((prefix + ln) if ln else "", i))

        section("prelude")
        out += [(ln, None) for ln in ("", "", "class Net(nn.Module):", "    def __init__(self):",
                                      "        super().__init__()")]
        section("init", " " * 8)
        section("methods", " " * 4)
        out += [(ln, None) for ln in ("", "    def forward(self, x):", "        h = x")]
        section("forward", " " * 8)
        out += [(ln, None) for ln in ("        return h", "", "", "model = Net()",
                                      "model.eval()")]
        section("post")
        out.append(("x = torch.randn(%s)" % ", ".join(map(str, self.input_shape)), None))
        out.append(("y = model(x)", None))
        if self.second_input:
            out.append(("x2 = torch.randn(%s)" % ", ".join(map(str, self.second_input)), None))
            out.append(("y2 = model(x2)", None))
        return out

    def closure(self, removed: int) -> set:
        """``removed`` and every item that needs it, directly or not."""
        gone = {removed}
        changed = True
        while changed:
            changed = False
            for i, it in enumerate(self.items):
                if i not in gone and any(r in gone for r in it.requires):
                    gone.add(i)
                    changed = True
        return gone


def indent(lines, n=1):
    return [("    " * n + line) if line else line for line in lines]


# ------------------------------------------------------------------------------ generator

class Gen:
    """Builds one program; ``width`` is the activation's feature (vec) or channel (img) size
    as far as the generator knows."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.seed = seed
        self.mode = self.rng.choice(["vec", "vec", "img"])
        self.batch = self.rng.randint(1, 3)
        self.width = self.rng.randint(2, 8)
        self.hw = (self.rng.randint(3, 6), self.rng.randint(3, 6))
        self.first_width = self.width
        self.items: list = []
        self.draws = 0          # undecidable draws per forward run
        self.counter = 0

    # -- names and sizes
    def name(self, base):
        self.counter += 1
        return "%s%d" % (base, self.counter)

    def size(self):
        return self.rng.randint(2, 9)

    def cin(self, w):
        """The in-size of a new layer fed ``w``: ``w``, or now and then a wrong one."""
        if self.rng.random() < P_WRONG:
            return max(1, w + self.rng.choice([-1, 1, 2]))
        return w

    def coin_ok(self, n=1):
        return self.draws + n <= MAX_DRAWS - 1

    # -- layers: (expression, in size or None, out size or None)
    def lin(self, cin, cout, bias=True):
        if self.mode == "vec":
            return ("nn.Linear(%d, %d%s)" % (cin, cout, "" if bias else ", bias=False"),
                    cin, cout)
        k = self.rng.choice([1, 3])
        return ("nn.Conv2d(%d, %d, %d%s%s)" % (cin, cout, k, ", padding=1" if k == 3 else "",
                                              "" if bias else ", bias=False"), cin, cout)

    def keep(self, w):
        """A layer that keeps the size (some check it)."""
        if self.mode == "vec":
            return self.rng.choice([("nn.ReLU()", None, None), ("nn.Identity()", None, None),
                                    ("nn.LayerNorm(%d)" % w, w, w), ("nn.GELU()", None, None),
                                    ("nn.Dropout(0.1)", None, None)])
        return self.rng.choice([("nn.ReLU()", None, None), ("nn.Identity()", None, None),
                                ("nn.BatchNorm2d(%d)" % w, w, w)])

    def layer_fn(self):
        """How a comprehension builds a layer from (i, o)."""
        return "nn.Linear(i, o)" if self.mode == "vec" else "nn.Conv2d(i, o, 1)"

    def tensor(self, w):
        """A fresh tensor expression of the activation's shape with size ``w``."""
        if self.mode == "vec":
            return "torch.zeros(h.shape[0], %d)" % w
        return "torch.zeros(h.shape[0], %d, h.shape[2], h.shape[3])" % w

    def resize_args(self, w):
        if self.mode == "vec":
            return "h.shape[0], %d" % w
        return "h.shape[0], %d, h.shape[2], h.shape[3]" % w

    def add(self, item: Item) -> int:
        self.items.append(item)
        return len(self.items) - 1

    # -- the program
    def program(self) -> Program:
        rng = self.rng
        builders = [(self.sequential, 4), (self.module_list, 3), (self.module_dict, 3),
                    (self.attr_layer, 3), (self.block_class, 3), (self.size_list, 2),
                    (self.config, 3), (self.tensor_list, 3), (self.tensor_dict, 2),
                    (self.inplace, 3), (self.branch, 2), (self.plain_op, 2),
                    (self.unmodelled_op, 2), (self.model_level, 1)]
        total = sum(w for _, w in builders)
        for _ in range(rng.randint(2, 5)):
            r = rng.uniform(0, total)
            for build, weight in builders:
                r -= weight
                if r <= 0:
                    build()
                    break
        if self.mode == "vec":
            shape = (self.batch, self.first_width)
        else:
            shape = (self.batch, self.first_width) + self.hw
        second = None
        if rng.random() < 0.15 and self.draws * 2 <= MAX_DRAWS:
            second = (self.batch + 1,) + shape[1:]
        return Program(self.seed, self.items, shape, second)

    # ---------------------------------------------------------------- mutation wrappers
    #
    # A mutation is a list of lines in which "{t}" is the mutated object and "{o}" its owner
    # (self in __init__, model at module level), optionally also given as a single method call
    # (method, args) so that opaque call forms (invoke, methodcaller, getattr of a string, eval)
    # can express it.  wrap() places it somewhere and says whether it is assumed to happen.

    def wrap(self, item: Item, lines, call=None, *, target, owner_attr=None,
             allow_post=True, forward=False, rebinds=False):
        """Place mutation ``lines`` into ``item``; return (form, whether it happens on the
        path the generator assumes).  ``target`` is the mutated object with "{o}" for its
        owner; ``owner_attr``: the lines change the owner's attribute rather than the object;
        ``forward``: the lines run in forward (they may use ``h`` and ``self``); ``rebinds``:
        the lines rebind the target, which a helper or an alias does not pass on."""
        rng = self.rng
        forms = ["direct", "direct", "alias", "helper_method", "helper_func", "exec",
                 "coin", "opaque_loop", "dead", "try"]
        if allow_post and not forward:
            forms += ["post", "post"]
        if call is not None:
            forms += ["invoke", "getattr_str", "methodcaller", "eval", "callback"]
        if not self.coin_ok():
            forms = [f for f in forms if f not in ("coin", "opaque_loop")]
        form = rng.choice(forms)
        t_here = target.format(o="self")

        def fill(ls, t, o="self"):
            return [ln.replace("{t}", t).replace("{o}", o) for ln in ls]

        section = item.forward if forward else item.init
        happens = True
        extra = ", h, self" if forward else ""   # what a helper needs from forward
        if form == "direct":
            section += fill(lines, t_here)
        elif form == "post":
            item.post += fill(lines, target.format(o="model"), "model")
        elif form == "alias":
            ref = self.name("ref")
            if owner_attr:
                section += ["%s = self" % ref] + fill(lines, target.format(o=ref), ref)
            else:
                section += ["%s = %s" % (ref, t_here)] + fill(lines, ref)
                happens = not rebinds
        elif form == "helper_method":
            meth = self.name("_mut")
            if owner_attr:
                item.methods += ["", "def %s(self, t):" % meth]
                item.methods += indent(fill(lines, target.format(o="t"), "t"))
                section.append("self.%s(self)" % meth)
            else:
                item.methods += ["", "def %s(self, t%s):" % (meth, ", h" if forward else "")]
                item.methods += indent(fill(lines, "t"))
                section.append("self.%s(%s%s)" % (meth, t_here, ", h" if forward else ""))
                happens = not rebinds
        elif form in ("helper_func", "exec"):
            fn = self.name("mutate")
            if owner_attr:
                body, arg = fill(lines, target.format(o="obj"), "obj"), "self"
            else:
                body, arg = fill(lines, "obj"), t_here
                happens = not rebinds
            code = ["def %s(obj%s):" % (fn, extra)] + indent(body)
            if form == "helper_func":
                item.prelude += [""] + code
            else:
                ns = self.name("_ns")
                item.prelude += ["%s = {'nn': nn, 'torch': torch}" % ns,
                                 "exec(%r, %s)" % ("\n".join(code) + "\n", ns),
                                 "%s = %s[%r]" % (fn, ns, fn)]
            section.append("%s(%s%s)" % (fn, arg, extra))
        elif form == "coin":
            self.draws += 1
            happens = rng.random() < 0.5
            section += ["if %s:" % self.condition(item)] + indent(fill(lines, t_here))
        elif form == "opaque_loop":
            self.draws += 1
            happens = rng.random() < 0.5
            section += ["for _ in range(int(random.random() * 3)):"] + \
                indent(fill(lines, t_here))
        elif form == "dead":
            happens = False
            flag = self.name("USE_EXTRA")
            item.prelude.append("%s = False" % flag)
            section += ["if %s:" % flag] + indent(fill(lines, t_here))
        elif form == "try":
            section += ["try:"] + indent(fill(lines, t_here)) + \
                ["except (KeyError, IndexError):", "    pass"]
        else:  # one opaque call of the mutating method
            method, args = call
            obj = t_here
            if form == "invoke":
                item.imports += ("from %s import invoke" % OPAQUE,)
                section.append("invoke(%s)" % ", ".join([obj, repr(method)] + list(args)))
            elif form == "getattr_str":
                cut = max(1, len(method) // 2)
                section.append("getattr(%s, %r + %r)(%s)" % (obj, method[:cut], method[cut:],
                                                             ", ".join(args)))
            elif form == "methodcaller":
                item.imports += ("import operator",)
                section.append("operator.methodcaller(%s)(%s)" % (
                    ", ".join([repr(method)] + list(args)), obj))
            elif form == "eval":
                section.append("eval('obj.%s(*args)', {'obj': %s, 'args': [%s]})" % (
                    method, obj, ", ".join(args)))
            else:  # a callback that an unknown function calls
                item.imports += ("from %s import call" % OPAQUE,)
                section.append("call(lambda: %s.%s(%s))" % (obj, method, ", ".join(args)))
        return form, happens

    def condition(self, item: Item) -> str:
        kind = self.rng.choice(["random", "random", "settings", "getattr", "negated"])
        if kind == "settings":
            item.imports += ("from %s import settings" % OPAQUE,)
            return "settings.flag"
        if kind == "getattr":
            return "getattr(random, 'random')() < 0.5"
        if kind == "negated":
            return "not random.random() > 0.5"
        return "random.random() < 0.5"

    # ---------------------------------------------------------------- layer containers

    def chain(self, w, layers):
        """Simulate layers on size ``w``; the size after them (or ``w`` after a misfit)."""
        for _, i, o in layers:
            if o is not None:
                w = o
        return w

    def new_layers(self, w, n):
        layers = []
        for _ in range(n):
            if self.rng.random() < 0.35:
                layers.append(self.keep(w))
            else:
                lay = self.lin(self.cin(w), self.size())
                layers.append(lay)
                w = lay[2]
        return layers

    def seq_mutation(self, kind, layers, names, w_in):
        """(tag, lines, call, new layers, new names) of one mutation of a Sequential or a
        ModuleList holding ``layers`` (named ``names``) fed size ``w_in``."""
        rng = self.rng
        out = self.chain(w_in, layers)
        before_last = self.chain(w_in, layers[:-1])
        new = self.lin(self.cin(out), self.size())
        fresh = self.name("m")
        choices = ["append", "extend", "insert_front", "insert_end", "setitem_last",
                   "add_module_new", "add_module_existing", "iadd", "private_add",
                   "register_module", "setattr_new", "loop_append", "while_append", "apply_init",
                   "apply_setattr"]
        if len(layers) >= 2:
            choices += ["del_last", "pop_last", "private_popitem", "del_slice"]
        what = rng.choice(choices)
        if kind == "list" and what in ("private_popitem",):
            what = "append"
        if what == "append":
            return what, ["{t}.append(%s)" % new[0]], ("append", [new[0]]), layers + [new], \
                names + [str(len(layers))]
        if what == "extend":
            k = self.keep(new[2])
            return what, ["{t}.extend([%s, %s])" % (new[0], k[0])], \
                ("extend", ["[%s, %s]" % (new[0], k[0])]), layers + [new, k], \
                names + [str(len(layers)), str(len(layers) + 1)]
        if what == "insert_front":
            lay = self.lin(self.cin(w_in), w_in)
            return what, ["{t}.insert(0, %s)" % lay[0]], ("insert", ["0", lay[0]]), \
                [lay] + layers, [str(i) for i in range(len(layers) + 1)]
        if what == "insert_end":
            return what, ["{t}.insert(len({t}), %s)" % new[0]], None, layers + [new], \
                names + [str(len(layers))]
        if what == "setitem_last":
            lay = self.lin(self.cin(before_last), self.size())
            return what, ["{t}[-1] = %s" % lay[0]], ("__setitem__", ["-1", lay[0]]), \
                layers[:-1] + [lay], names
        if what == "del_last":
            return what, ["del {t}[-1]"], ("__delitem__", ["-1"]), layers[:-1], names[:-1]
        if what == "del_slice":
            return what, ["del {t}[1:]"], None, layers[:1], names[:1]
        if what == "pop_last":
            return what, ["{t}.pop(-1)"], ("pop", ["-1"]), layers[:-1], names[:-1]
        if what == "private_popitem":
            return what, ["{t}._modules.popitem()"], None, layers[:-1], names[:-1]
        if what == "add_module_new":
            return what, ["{t}.add_module(%r, %s)" % (fresh, new[0])], \
                ("add_module", [repr(fresh), new[0]]), layers + [new], names + [fresh]
        if what == "add_module_existing":
            lay = self.lin(self.cin(before_last), self.size())
            return what, ["{t}.add_module(%r, %s)" % (names[-1], lay[0])], \
                ("add_module", [repr(names[-1]), lay[0]]), layers[:-1] + [lay], names
        if what == "register_module":
            return what, ["{t}.register_module(%r, %s)" % (fresh, new[0])], \
                ("register_module", [repr(fresh), new[0]]), layers + [new], names + [fresh]
        if what == "setattr_new":
            return what, ["setattr({t}, %r, %s)" % (fresh, new[0])], None, layers + [new], \
                names + [fresh]
        if what == "private_add":
            return what, ["{t}._modules[%r] = %s" % (fresh, new[0])], None, layers + [new], \
                names + [fresh]
        if what == "iadd":
            if kind == "list":
                return what, ["{t} += [%s]" % new[0]], None, layers + [new], \
                    names + [str(len(layers))]
            return what, ["{t} += nn.Sequential(%s)" % new[0]], None, layers + [new], \
                names + [str(len(layers))]
        if what == "loop_append":
            n = rng.randint(1, 3)
            d = rng.randint(0, 2)
            expr = "nn.Linear(%d + %d * i, %d + %d * (i + 1))" % (out, d, out, d) \
                if self.mode == "vec" else \
                "nn.Conv2d(%d + %d * i, %d + %d * (i + 1), 1)" % (out, d, out, d)
            adds = [(None, out + d * i, out + d * (i + 1)) for i in range(n)]
            return what, ["for i in range(%d):" % n,
                          "    {t}.add_module('r%%d' %% i, %s)" % expr], None, layers + adds, \
                names + ["r%d" % i for i in range(n)]
        if what == "while_append":
            target = len(layers) + rng.randint(1, 2)
            k = self.keep(out)
            return what, ["while len({t}) < %d:" % target, "    {t}.append(%s)" % k[0]], None, \
                layers + [k] * (target - len(layers)), \
                names + [str(i) for i in range(len(layers), target)]
        if what == "apply_init":
            return what, ["{t}.apply(lambda m: nn.init.zeros_(m.weight) "
                          "if isinstance(m, (nn.Linear, nn.Conv2d)) else None)"], None, \
                layers, names
        # apply_setattr: a function applied to every submodule (it changes no size)
        return what, ["{t}.apply(lambda m: setattr(m, 'marker', 1))"], None, layers, names

    def forward_chain(self, attr, kind):
        """Forward lines that run container ``attr`` of ``kind`` as a chain."""
        rng = self.rng
        if kind == "seq":
            return ["h = self.%s(h)" % attr]
        if kind == "list":
            style = rng.choice(["for", "enumerate", "range", "reversed_twice"])
            if style == "for":
                return ["for blk in self.%s:" % attr, "    h = blk(h)"]
            if style == "enumerate":
                return ["for i, blk in enumerate(self.%s):" % attr, "    h = blk(h)"]
            if style == "range":
                return ["for i in range(len(self.%s)):" % attr, "    h = self.%s[i](h)" % attr]
            return ["for blk in list(reversed(list(reversed(self.%s)))):" % attr,
                    "    h = blk(h)"]
        style = rng.choice(["values", "items", "keys", "iter"])
        if style == "values":
            return ["for layer in self.%s.values():" % attr, "    h = layer(h)"]
        if style == "items":
            return ["for key, layer in self.%s.items():" % attr, "    h = layer(h)"]
        if style == "keys":
            return ["for key in self.%s.keys():" % attr, "    h = self.%s[key](h)" % attr]
        return ["for key in self.%s:" % attr, "    h = self.%s[key](h)" % attr]

    def mutations(self, def_index, kind, attr, layers, names, w_in, build=None):
        """Zero to three mutation items of container ``attr``; returns the layers after."""
        for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
            if kind == "dict":
                what, lines, call, new_layers, new_names = self.dict_mutation(layers, names,
                                                                              w_in)
            else:
                what, lines, call, new_layers, new_names = self.seq_mutation(kind, layers,
                                                                             names, w_in)
            item = Item(tag="", role="mut", requires=(def_index,))
            form, happens = self.wrap(item, lines, call, target="{o}.%s" % attr)
            item.tag = "%s.%s@%s" % (kind, what, form)
            self.add(item)
            if happens:
                layers, names = new_layers, new_names
        return layers

    def sequential(self):
        rng = self.rng
        w_in = self.width
        attr = self.name("seq")
        layers = self.new_layers(w_in, rng.randint(1, 3))
        style = rng.choice(["positional", "ordered", "list", "list_loop"])
        item = Item(tag="seq.def." + style, role="def")
        names = [str(i) for i in range(len(layers))]
        if style == "positional":
            item.init.append("self.%s = nn.Sequential(%s)" % (attr, ", ".join(
                lay[0] for lay in layers)))
        elif style == "ordered":
            names = ["l%d" % i for i in range(len(layers))]
            item.imports += ("from collections import OrderedDict",)
            item.init.append("self.%s = nn.Sequential(OrderedDict([%s]))" % (attr, ", ".join(
                "(%r, %s)" % (n, lay[0]) for n, lay in zip(names, layers))))
        elif style == "list":
            var = self.name("layers")
            item.init.append("%s = []" % var)
            item.init += ["%s.append(%s)" % (var, lay[0]) for lay in layers]
            item.init.append("self.%s = nn.Sequential(*%s)" % (attr, var))
        else:
            var = self.name("layers")
            n = rng.randint(1, 3)
            expr = "nn.Linear(%d, %d)" % (w_in, w_in) if self.mode == "vec" else \
                "nn.Conv2d(%d, %d, 3, padding=1)" % (w_in, w_in)
            item.init += ["%s = []" % var, "for _ in range(%d):" % n,
                          "    %s += [%s, nn.ReLU()]" % (var, expr),
                          "self.%s = nn.Sequential(*%s)" % (attr, var)]
            layers = [(None, w_in, w_in), (None, None, None)] * n
            names = [str(i) for i in range(len(layers))]
        item.forward = self.forward_chain(attr, "seq")
        idx = self.add(item)
        layers = self.mutations(idx, "seq", attr, layers, names, w_in)
        self.width = self.chain(w_in, layers)

    def module_list(self):
        rng = self.rng
        w_in = self.width
        attr = self.name("blocks")
        n = rng.randint(1, 3)
        style = rng.choice(["comprehension", "literal", "append_loop"])
        item = Item(tag="list.def." + style, role="def")
        if style == "comprehension":
            lay = self.lin(w_in, w_in)
            item.init.append("self.%s = nn.ModuleList([%s for _ in range(%d)])" % (
                attr, lay[0], n))
            layers = [lay] * n
        elif style == "literal":
            layers = self.new_layers(w_in, n)
            item.init.append("self.%s = nn.ModuleList([%s])" % (
                attr, ", ".join(lay[0] for lay in layers)))
        else:
            layers = []
            item.init.append("self.%s = nn.ModuleList()" % attr)
            w = w_in
            sizes = [w]
            for _ in range(n):
                sizes.append(self.size())
            item.init.append("for i, o in zip(%r, %r):" % (sizes[:-1], sizes[1:]))
            item.init.append("    self.%s.append(%s)" % (attr, self.layer_fn()))
            layers = [(None, i, o) for i, o in zip(sizes[:-1], sizes[1:])]
        item.forward = self.forward_chain(attr, "list")
        idx = self.add(item)
        names = [str(i) for i in range(len(layers))]
        layers = self.mutations(idx, "list", attr, layers, names, w_in)
        self.width = self.chain(w_in, layers)

    def dict_mutation(self, layers, names, w_in):
        rng = self.rng
        out = self.chain(w_in, layers)
        before_last = self.chain(w_in, layers[:-1])
        new = self.lin(self.cin(out), self.size())
        fresh = self.name("k")
        choices = ["setitem_new", "setitem_existing", "update_dict", "update_pairs",
                   "add_module", "register_module", "setattr", "private_add", "clear_refill",
                   "loop_setitem"]
        if len(layers) >= 2:
            choices += ["del_last", "pop_last", "pop_first_readd"]
        what = rng.choice(choices)
        if what == "setitem_new":
            return what, ["{t}[%r] = %s" % (fresh, new[0])], \
                ("__setitem__", [repr(fresh), new[0]]), layers + [new], names + [fresh]
        if what == "setitem_existing":
            lay = self.lin(self.cin(before_last), self.size())
            return what, ["{t}[%r] = %s" % (names[-1], lay[0])], \
                ("__setitem__", [repr(names[-1]), lay[0]]), layers[:-1] + [lay], names
        if what == "update_dict":
            return what, ["{t}.update({%r: %s})" % (fresh, new[0])], \
                ("update", ["{%r: %s}" % (fresh, new[0])]), layers + [new], names + [fresh]
        if what == "update_pairs":
            return what, ["{t}.update([(%r, %s)])" % (fresh, new[0])], \
                ("update", ["[(%r, %s)]" % (fresh, new[0])]), layers + [new], names + [fresh]
        if what == "add_module":
            return what, ["{t}.add_module(%r, %s)" % (fresh, new[0])], \
                ("add_module", [repr(fresh), new[0]]), layers + [new], names + [fresh]
        if what == "register_module":
            return what, ["{t}.register_module(%r, %s)" % (fresh, new[0])], \
                ("register_module", [repr(fresh), new[0]]), layers + [new], names + [fresh]
        if what == "setattr":
            return what, ["setattr({t}, %r, %s)" % (fresh, new[0])], None, layers + [new], \
                names + [fresh]
        if what == "private_add":
            return what, ["{t}._modules[%r] = %s" % (fresh, new[0])], None, layers + [new], \
                names + [fresh]
        if what == "clear_refill":
            lay = self.lin(self.cin(w_in), self.size())
            return what, ["{t}.clear()", "{t}[%r] = %s" % (fresh, lay[0])], None, [lay], \
                [fresh]
        if what == "loop_setitem":
            n = rng.randint(1, 2)
            expr = "nn.Linear(%d, %d)" % (out, out) if self.mode == "vec" else \
                "nn.Conv2d(%d, %d, 1)" % (out, out)
            return what, ["for i in range(%d):" % n,
                          "    {t}['x%%d' %% i] = %s" % expr], None, \
                layers + [(None, out, out)] * n, names + ["x%d" % i for i in range(n)]
        if what == "del_last":
            return what, ["del {t}[%r]" % names[-1]], ("__delitem__", [repr(names[-1])]), \
                layers[:-1], names[:-1]
        if what == "pop_last":
            return what, ["{t}.pop(%r)" % names[-1]], ("pop", [repr(names[-1])]), \
                layers[:-1], names[:-1]
        # pop the first and put it back: it moves to the end
        first = names[0]
        return what, ["{t}[%r] = {t}.pop(%r)" % (first, first)], None, \
            layers[1:] + layers[:1], names[1:] + names[:1]

    def module_dict(self):
        rng = self.rng
        w_in = self.width
        attr = self.name("heads")
        layers = self.new_layers(w_in, rng.randint(1, 3))
        names = ["k%d" % i for i in range(len(layers))]
        style = rng.choice(["literal", "pairs", "setitem_loop"])
        item = Item(tag="dict.def." + style, role="def")
        if style == "literal":
            item.init.append("self.%s = nn.ModuleDict({%s})" % (attr, ", ".join(
                "%r: %s" % (n, lay[0]) for n, lay in zip(names, layers))))
        elif style == "pairs":
            item.init.append("self.%s = nn.ModuleDict([%s])" % (attr, ", ".join(
                "(%r, %s)" % (n, lay[0]) for n, lay in zip(names, layers))))
        else:
            item.init.append("self.%s = nn.ModuleDict()" % attr)
            item.init += ["self.%s[%r] = %s" % (attr, n, lay[0])
                          for n, lay in zip(names, layers)]
        use_key = rng.random() < 0.3
        if use_key:
            key = names[0]
            item.forward = ["h = self.%s[%r](h)" % (attr, key)]
        else:
            item.forward = self.forward_chain(attr, "dict")
        idx = self.add(item)
        after = self.mutations(idx, "dict", attr, layers, names, w_in)
        if use_key:
            self.width = layers[0][2] if layers[0][2] is not None else w_in
        else:
            self.width = self.chain(w_in, after)

    # ---------------------------------------------------------------- a single layer

    def attr_layer(self):
        rng = self.rng
        w_in = self.width
        attr = self.name("fc")
        bias = rng.random() < 0.5
        out = self.size()
        if self.mode == "vec":
            expr = "nn.Linear(%d, %d%s)" % (self.cin(w_in), out, "" if bias else ", bias=False")
        else:
            expr = "nn.Conv2d(%d, %d, 1%s)" % (self.cin(w_in), out, "" if bias else ", bias=False")
        item = Item(tag="attr.def", role="def", init=["self.%s = %s" % (attr, expr)],
                    forward=["h = self.%s(h)" % attr])
        idx = self.add(item)
        for _ in range(rng.choice([0, 1, 1, 2])):
            n = self.size()
            new = self.lin(self.cin(w_in), n)
            choices = ["reassign", "setattr", "register_module", "add_module", "private",
                       "dunder_setattr", "wrap_sequential", "out_features_only"]
            if not bias:
                choices += ["weight_param", "weight_data"]
            what = rng.choice(choices)
            call = None
            owner = False
            if what == "reassign":
                lines, owner = ["{o}.%s = %s" % (attr, new[0])], True
            elif what == "setattr":
                lines, owner = ["setattr({o}, %r, %s)" % (attr, new[0])], True
            elif what in ("register_module", "add_module"):
                lines, owner = ["{o}.%s(%r, %s)" % (what, attr, new[0])], True
            elif what == "private":
                lines, owner = ["{o}._modules[%r] = %s" % (attr, new[0])], True
            elif what == "dunder_setattr":
                lines, owner = ["{o}.__setattr__(%r, %s)" % (attr, new[0])], True
            elif what == "wrap_sequential":
                tail = self.lin(out, n)
                lines, owner = ["{o}.%s = nn.Sequential({o}.%s, %s)" % (attr, attr, tail[0])], \
                    True
            elif what == "out_features_only":
                name = "out_features" if self.mode == "vec" else "out_channels"
                lines = ["{t}.%s = %d" % (name, n)]
                n = out  # torch keeps the weight: the output size does not change
            elif what == "weight_param":
                dims = (n, w_in) if self.mode == "vec" else (n, w_in, 1, 1)
                lines = ["{t}.weight = nn.Parameter(torch.randn(%s))" % ", ".join(map(str, dims))]
                call = ("register_parameter",
                        ["'weight'", "nn.Parameter(torch.randn(%s))" % ", ".join(map(str, dims))])
            else:
                dims = (n, w_in) if self.mode == "vec" else (n, w_in, 1, 1)
                lines = ["{t}.weight.data = torch.randn(%s)" % ", ".join(map(str, dims))]
            mut = Item(tag="", role="mut", requires=(idx,))
            if owner:
                form, happens = self.wrap(mut, lines, call, target="{o}.%s" % attr,
                                          owner_attr=attr)
            else:
                form, happens = self.wrap(mut, lines, call, target="{o}.%s" % attr)
            mut.tag = "attr.%s@%s" % (what, form)
            self.add(mut)
            if happens:
                out = n
        self.width = out

    # ---------------------------------------------------------------- user container classes

    def block_class(self):
        rng = self.rng
        w_in = self.width
        cls = self.name("Block")
        attr = self.name("block")
        n = rng.randint(1, 3)
        g = self.size()
        conv = self.mode == "img"
        L = (lambda i, o: "nn.Conv2d(%s, %s, 3, padding=1)" % (i, o)) if conv else \
            (lambda i, o: "nn.Linear(%s, %s)" % (i, o))
        style = rng.choice(["sequential", "dict", "dense", "list", "setattr", "dense_list"])
        item = Item(tag="block.def." + style, role="def")
        if style == "sequential":
            item.prelude = ["", "", "class %s(nn.Sequential):" % cls,
                            "    def __init__(self, cin, cout, n):",
                            "        super().__init__()",
                            "        for i in range(n):",
                            "            self.add_module('layer%%d' %% i, %s)" % L(
                                "cin if i == 0 else cout", "cout"),
                            "            self.add_module('act%d' % i, nn.ReLU())"]
            out, kind = g, "seq"
            layers = []
            w = w_in
            for i in range(n):
                layers += [(None, w, g), (None, None, None)]
                w = g
            names = [nm for i in range(n) for nm in ("layer%d" % i, "act%d" % i)]
        elif style == "dict":
            item.prelude = ["", "", "class %s(nn.ModuleDict):" % cls,
                            "    def __init__(self, cin, cout, n):",
                            "        super().__init__()",
                            "        for i in range(n):",
                            "            self['layer%%d' %% i] = %s" % L(
                                "cin if i == 0 else cout", "cout"),
                            "",
                            "    def forward(self, x):",
                            "        for name, layer in self.items():",
                            "            x = layer(x)",
                            "        return x"]
            out, kind = g, "dict"
            layers = [(None, w_in if i == 0 else g, g) for i in range(n)]
            names = ["layer%d" % i for i in range(n)]
        elif style in ("dense", "dense_list"):
            base = "nn.ModuleDict" if style == "dense" else "nn.ModuleList"
            add = "self.add_module('dense%d' % i, " if style == "dense" else "self.append("
            it = "self.values()" if style == "dense" else "self"
            item.prelude = ["", "", "class %s(%s):" % (cls, base),
                            "    def __init__(self, cin, growth, n):",
                            "        super().__init__()",
                            "        for i in range(n):",
                            "            %s%s)" % (add, L("cin + i * growth", "growth")),
                            "",
                            "    def forward(self, x):",
                            "        feats = [x]",
                            "        for layer in %s:" % it,
                            "            new = layer(torch.cat(feats, 1))",
                            "            feats.append(new)",
                            "        return torch.cat(feats, 1)"]
            out, kind = w_in + n * g, None
        elif style == "list":
            item.prelude = ["", "", "class %s(nn.Module):" % cls,
                            "    def __init__(self, cin, cout, n):",
                            "        super().__init__()",
                            "        self.layers = nn.ModuleList()",
                            "        for i in range(n):",
                            "            self.layers.append(%s)" % L("cin if i == 0 else cout",
                                                                 "cout"),
                            "",
                            "    def forward(self, x):",
                            "        for layer in self.layers:",
                            "            x = layer(x)",
                            "        return x"]
            out, kind = g, None
        else:
            item.prelude = ["", "", "class %s(nn.Module):" % cls,
                            "    def __init__(self, cin, cout, n):",
                            "        super().__init__()",
                            "        self.n = n",
                            "        for i in range(n):",
                            "            setattr(self, 'layer%%d' %% i, %s)" % L(
                                "cin if i == 0 else cout", "cout"),
                            "",
                            "    def forward(self, x):",
                            "        for i in range(self.n):",
                            "            x = getattr(self, 'layer%d' % i)(x)",
                            "        return x"]
            out, kind = g, None
        item.init = ["self.%s = %s(%d, %d, %d)" % (attr, cls, self.cin(w_in), g, n)]
        item.forward = ["h = self.%s(h)" % attr]
        idx = self.add(item)
        if kind is not None:
            layers = self.mutations(idx, kind, attr, layers, names, w_in)
            out = self.chain(w_in, layers)
        elif style in ("dense", "dense_list") and rng.random() < 0.6:
            # one more dense layer, sized for what arrives
            mut = Item(tag="", role="mut", requires=(idx,))
            lay = L(w_in + n * g, g)
            if style == "dense":
                lines = ["{t}.add_module('extra', %s)" % lay]
                call = ("add_module", ["'extra'", lay])
            else:
                lines = ["{t}.append(%s)" % lay]
                call = ("append", [lay])
            form, happens = self.wrap(mut, lines, call, target="{o}.%s" % attr)
            mut.tag = "block.%s.add_layer@%s" % (style, form)
            self.add(mut)
            if happens:
                out += g
        self.width = out

    # ---------------------------------------------------------------- configs

    def size_list(self):
        rng = self.rng
        w_in = self.width
        sizes = [self.size() for _ in range(rng.randint(1, 3))]
        where = rng.choice(["attr", "global"])
        var = self.name("SIZES") if where == "global" else "self.%s" % self.name("sizes")
        d = Item(tag="sizes.def.%s" % where, role="def")
        if where == "global":
            d.prelude = ["%s = %r" % (var, sizes)]
        else:
            d.init = ["%s = %r" % (var, sizes)]
        idx = self.add(d)
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            n = self.size()
            choices = ["append", "extend", "insert_front", "setitem_last", "iadd", "reverse",
                       "sort", "rebind_concat", "clear_refill", "slice_assign"]
            if len(sizes) >= 2:
                choices += ["del_last", "pop", "pop_front"]
            what = rng.choice(choices)
            call, new = None, list(sizes)
            if what == "append":
                lines, call, new = ["{t}.append(%d)" % n], ("append", [str(n)]), sizes + [n]
            elif what == "extend":
                lines, call, new = ["{t}.extend([%d, %d])" % (n, n + 1)], \
                    ("extend", ["[%d, %d]" % (n, n + 1)]), sizes + [n, n + 1]
            elif what == "insert_front":
                lines, call, new = ["{t}.insert(0, %d)" % n], ("insert", ["0", str(n)]), \
                    [n] + sizes
            elif what == "setitem_last":
                lines, call = ["{t}[-1] = %d" % n], ("__setitem__", ["-1", str(n)])
                new[-1] = n
            elif what == "iadd":
                lines, new = ["{t} += [%d]" % n], sizes + [n]
            elif what == "reverse":
                lines, call, new = ["{t}.reverse()"], ("reverse", []), sizes[::-1]
            elif what == "sort":
                lines, call, new = ["{t}.sort()"], ("sort", []), sorted(sizes)
            elif what == "rebind_concat":
                lines, new = ["{t} = {t} + [%d]" % n], sizes + [n]
            elif what == "clear_refill":
                lines, new = ["{t}.clear()", "{t}.append(%d)" % n], [n]
            elif what == "slice_assign":
                lines, new = ["{t}[:] = [%d]" % n], [n]
            elif what == "del_last":
                lines, call, new = ["del {t}[-1]"], ("__delitem__", ["-1"]), sizes[:-1]
            elif what == "pop":
                lines, call, new = ["{t}.pop()"], ("pop", []), sizes[:-1]
            else:
                lines, call, new = ["{t}.pop(0)"], ("pop", ["0"]), sizes[1:]
            mut = Item(tag="", role="mut", requires=(idx,))
            rebinds = what == "rebind_concat"
            if where == "global":
                form, happens = self.wrap_global(mut, lines, call, var, rebinds=rebinds)
            else:
                form, happens = self.wrap(mut, lines, call, target=var.replace("self", "{o}"),
                                          allow_post=False, rebinds=rebinds)
            mut.tag = "sizes.%s@%s" % (what, form)
            self.add(mut)
            if happens:
                sizes = new
        attr = self.name("mlp")
        b = Item(tag="sizes.build", role="def", requires=(idx,))
        b.init = ["self.%s = nn.Sequential(*[%s for i, o in zip([%d] + %s[:-1], %s)])" % (
            attr, self.layer_fn(), self.cin(w_in), var, var)]
        b.forward = ["h = self.%s(h)" % attr]
        self.add(b)
        if sizes:
            self.width = sizes[-1]

    def wrap_global(self, item, lines, call, var, rebinds=False):
        """A mutation of a module-level object, at module level (before the class)."""
        rng = self.rng
        forms = ["direct", "direct", "helper_func", "exec", "alias", "dead"]
        if self.coin_ok():
            forms += ["coin"]
        if call is not None:
            forms += ["invoke", "getattr_str", "methodcaller"]
        form = rng.choice(forms)
        happens = True

        def fill(ls, t):
            return [ln.replace("{t}", t) for ln in ls]

        if form == "direct":
            item.prelude += fill(lines, var)
        elif form == "alias":
            ref = self.name("ref")
            item.prelude += ["%s = %s" % (ref, var)] + fill(lines, ref)
            happens = not rebinds
        elif form in ("helper_func", "exec"):
            happens = not rebinds
            fn = self.name("mutate")
            code = ["def %s(obj):" % fn] + indent(fill(lines, "obj"))
            if form == "helper_func":
                item.prelude += [""] + code + ["", "", "%s(%s)" % (fn, var)]
            else:
                ns = self.name("_ns")
                item.prelude += ["%s = {}" % ns,
                                 "exec(%r, %s)" % ("\n".join(code) + "\n", ns),
                                 "%s[%r](%s)" % (ns, fn, var)]
        elif form == "dead":
            happens = False
            flag = self.name("USE_EXTRA")
            item.prelude += ["%s = False" % flag, "if %s:" % flag] + indent(fill(lines, var))
        elif form == "coin":
            self.draws += 1
            happens = rng.random() < 0.5
            item.prelude += ["if %s:" % self.condition(item)] + indent(fill(lines, var))
        else:
            method, args = call
            if form == "invoke":
                item.imports += ("from %s import invoke" % OPAQUE,)
                item.prelude.append("invoke(%s)" % ", ".join([var, repr(method)] + list(args)))
            elif form == "getattr_str":
                cut = max(1, len(method) // 2)
                item.prelude.append("getattr(%s, %r + %r)(%s)" % (
                    var, method[:cut], method[cut:], ", ".join(args)))
            else:
                item.imports += ("import operator",)
                item.prelude.append("operator.methodcaller(%s)(%s)" % (
                    ", ".join([repr(method)] + list(args)), var))
        return form, happens

    def config(self):
        """A hidden size read from a config (dict, object, dataclass, argparse), maybe changed
        before the layer is built."""
        rng = self.rng
        w_in = self.width
        kind = rng.choice(["dict", "object", "dataclass", "argparse", "namespace"])
        var = self.name("cfg")
        n0 = self.size()
        d = Item(tag="cfg.def.%s" % kind, role="def")
        if kind == "dict":
            d.prelude = ["%s = {'hidden': %d, 'depth': 1}" % (var, n0)]
            read = "%s['hidden']" % var
        elif kind == "object":
            cls = self.name("Config")
            d.prelude = ["", "", "class %s:" % cls, "    hidden = %d" % n0, "", "",
                         "%s = %s()" % (var, cls)]
            read = "%s.hidden" % var
        elif kind == "dataclass":
            cls = self.name("Config")
            d.imports = ("from dataclasses import dataclass",)
            d.prelude = ["", "", "@dataclass", "class %s:" % cls, "    hidden: int = %d" % n0,
                         "    wide: int = 0", "", "", "%s = %s()" % (var, cls)]
            read = "%s.hidden" % var
        elif kind == "argparse":
            d.imports = ("import argparse",)
            parser = self.name("parser")
            d.prelude = ["%s = argparse.ArgumentParser()" % parser,
                         "%s.add_argument('--hidden', type=int, default=%d)" % (parser, n0)]
            style = rng.choice(["plain", "set_defaults", "argv"])
            if style == "set_defaults":
                n1 = self.size()
                d.prelude.append("%s.set_defaults(hidden=%d)" % (parser, n1))
                n0 = n1
            if style == "argv":
                n1 = self.size()
                d.prelude.append("%s = %s.parse_args(['--hidden', '%d'])" % (var, parser, n1))
                n0 = n1
            else:
                d.prelude.append("%s = %s.parse_args([])" % (var, parser))
            d.tag += "." + style
            read = "%s.hidden" % var
        else:
            d.imports = ("import argparse",)
            d.prelude = ["%s = argparse.Namespace(hidden=%d)" % (var, n0)]
            read = "%s.hidden" % var
        idx = self.add(d)
        hidden = n0
        own_attr = False  # the instance has its own "hidden" (a class attribute no longer shows)
        for _ in range(rng.choice([0, 1, 1, 2])):
            n = self.size()
            if kind == "dict":
                what = rng.choice(["setitem", "update_kw", "update_dict", "setdefault",
                                   "pop_readd", "ior", "dict_update_unbound"])
                lines = {"setitem": ["{t}['hidden'] = %d" % n],
                         "update_kw": ["{t}.update(hidden=%d)" % n],
                         "update_dict": ["{t}.update({'hidden': %d})" % n],
                         "setdefault": ["{t}.setdefault('hidden', %d)" % n],
                         "pop_readd": ["{t}.pop('hidden')", "{t}['hidden'] = %d" % n],
                         "ior": ["{t} |= {'hidden': %d}" % n],
                         "dict_update_unbound": ["dict.update({t}, hidden=%d)" % n]}[what]
                call = {"update_kw": None, "setitem": ("__setitem__", ["'hidden'", str(n)]),
                        "update_dict": ("update", ["{'hidden': %d}" % n])}.get(what)
                if what == "setdefault":
                    n = hidden
            else:
                what = rng.choice(["setattr_stmt", "setattr_fn", "dict_setitem", "vars_update",
                                   "class_attr"] if kind in ("object",) else
                                  ["setattr_stmt", "setattr_fn", "dict_setitem", "vars_update"])
                lines = {"setattr_stmt": ["{t}.hidden = %d" % n],
                         "setattr_fn": ["setattr({t}, 'hidden', %d)" % n],
                         "dict_setitem": ["{t}.__dict__['hidden'] = %d" % n],
                         "vars_update": ["vars({t}).update(hidden=%d)" % n],
                         "class_attr": ["type({t}).hidden = %d" % n]}[what]
                call = ("__setattr__", ["'hidden'", str(n)]) if what == "setattr_stmt" else None
            mut = Item(tag="", role="mut", requires=(idx,))
            form, happens = self.wrap_global(mut, lines, call, var)
            mut.tag = "cfg.%s.%s@%s" % (kind, what, form)
            self.add(mut)
            if happens and kind != "dict":
                if what == "class_attr" and own_attr:
                    n = hidden
                own_attr = own_attr or what != "class_attr"
            if happens:
                hidden = n
        attr = self.name("proj")
        b = Item(tag="cfg.build.%s" % kind, role="def", requires=(idx,))
        if self.mode == "vec":
            b.init = ["self.%s = nn.Linear(%d, %s)" % (attr, self.cin(w_in), read)]
        else:
            b.init = ["self.%s = nn.Conv2d(%d, %s, 1)" % (attr, self.cin(w_in), read)]
        b.forward = ["h = self.%s(h)" % attr]
        self.add(b)
        self.width = hidden

    # ---------------------------------------------------------------- forward: tensors

    def tensor_list(self):
        rng = self.rng
        w = self.width
        attr = self.name("t")
        n = self.size()
        lay = self.lin(self.cin(w), n)
        var = self.name("outs")
        item = Item(tag="tlist.def", role="def", init=["self.%s = %s" % (attr, lay[0])],
                    forward=["%s = [h, self.%s(h)]" % (var, attr)])
        idx = self.add(item)
        widths = [w, n]
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            choices = ["append", "append_layer", "insert_front", "extend", "setitem_first",
                       "iadd", "imul", "reverse", "rebind_concat", "clear_refill",
                       "comprehension"]
            if len(widths) >= 2:
                choices += ["del_first", "pop", "pop_front", "slice_del"]
            what = rng.choice(choices)
            call, new = None, list(widths)
            if what == "append":
                lines, call, new = ["{t}.append(h)"], ("append", ["h"]), widths + [w]
            elif what == "append_layer":
                lines, call, new = ["{t}.append(self.%s(h))" % attr], \
                    ("append", ["self.%s(h)" % attr]), widths + [n]
            elif what == "insert_front":
                lines, call, new = ["{t}.insert(0, self.%s(h))" % attr], \
                    ("insert", ["0", "self.%s(h)" % attr]), [n] + widths
            elif what == "extend":
                lines, call, new = ["{t}.extend([h, h])"], ("extend", ["[h, h]"]), \
                    widths + [w, w]
            elif what == "setitem_first":
                lines, call = ["{t}[0] = self.%s(h)" % attr], \
                    ("__setitem__", ["0", "self.%s(h)" % attr])
                new[0] = n
            elif what == "iadd":
                lines, new = ["{t} += [h]"], widths + [w]
            elif what == "imul":
                lines, new = ["{t} *= 2"], widths * 2
            elif what == "reverse":
                lines, call, new = ["{t}.reverse()"], ("reverse", []), widths[::-1]
            elif what == "rebind_concat":
                lines, new = ["{t} = {t} + [h]"], widths + [w]
            elif what == "clear_refill":
                lines, new = ["{t}.clear()", "{t}.append(self.%s(h))" % attr], [n]
            elif what == "comprehension":
                lines, new = ["{t} = [u for u in {t}] + [self.%s(h)]" % attr], widths + [n]
            elif what == "del_first":
                lines, call, new = ["del {t}[0]"], ("__delitem__", ["0"]), widths[1:]
            elif what == "pop":
                lines, call, new = ["{t}.pop()"], ("pop", []), widths[:-1]
            elif what == "slice_del":
                lines, new = ["del {t}[1:]"], widths[:1]
            else:
                lines, call, new = ["{t}.pop(0)"], ("pop", ["0"]), widths[1:]
            mut = Item(tag="", role="mut", requires=(idx,))
            form, happens = self.wrap(mut, lines, call, target=var, forward=True,
                                      rebinds=what in ("rebind_concat", "comprehension"))
            mut.tag = "tlist.%s@%s" % (what, form)
            self.add(mut)
            if happens:
                widths = new
        use = Item(tag="", role="op", requires=(idx,))
        final = rng.choice(["cat", "cat", "last", "first"])
        if final == "cat" or not widths:
            use.forward = ["h = torch.cat(%s, dim=1)" % var]
            self.width = sum(widths)
        elif final == "last":
            use.forward = ["h = %s[-1]" % var]
            self.width = widths[-1]
        else:
            use.forward = ["h = %s[0]" % var]
            self.width = widths[0]
        use.tag = "tlist.use.%s" % final
        self.add(use)

    def tensor_dict(self):
        rng = self.rng
        w = self.width
        attr = self.name("u")
        n = self.size()
        lay = self.lin(self.cin(w), n)
        var = self.name("feats")
        item = Item(tag="tdict.def", role="def", init=["self.%s = %s" % (attr, lay[0])],
                    forward=["%s = {'a': h, 'b': self.%s(h)}" % (var, attr)])
        idx = self.add(item)
        entries = {"a": w, "b": n}
        for _ in range(rng.choice([0, 1, 1, 2])):
            what = rng.choice(["setitem_new", "setitem_a", "update_kw", "pop_b", "del_a",
                               "setdefault", "update_dict", "clear_refill"])
            call, new = None, dict(entries)
            if what == "setitem_new":
                lines, call = ["{t}['c'] = h"], ("__setitem__", ["'c'", "h"])
                new["c"] = w
            elif what == "setitem_a":
                lines, call = ["{t}['a'] = self.%s(h)" % attr], \
                    ("__setitem__", ["'a'", "self.%s(h)" % attr])
                new["a"] = n
            elif what == "update_kw":
                lines = ["{t}.update(b=h)"]
                new["b"] = w
            elif what == "update_dict":
                lines, call = ["{t}.update({'c': self.%s(h)})" % attr], \
                    ("update", ["{'c': self.%s(h)}" % attr])
                new["c"] = n
            elif what == "pop_b":
                lines, call = ["{t}.pop('b', None)"], ("pop", ["'b'", "None"])
                new.pop("b", None)
            elif what == "del_a":
                lines = ["{t}.pop('a', None)"]
                new.pop("a", None)
            elif what == "setdefault":
                lines, call = ["{t}.setdefault('a', self.%s(h))" % attr], \
                    ("setdefault", ["'a'", "self.%s(h)" % attr])
                new.setdefault("a", n)
            else:
                lines = ["{t}.clear()", "{t}['a'] = h"]
                new = {"a": w}
            mut = Item(tag="", role="mut", requires=(idx,))
            form, happens = self.wrap(mut, lines, call, target=var, forward=True)
            mut.tag = "tdict.%s@%s" % (what, form)
            self.add(mut)
            if happens:
                entries = new
        use = Item(tag="", role="op", requires=(idx,))
        if entries and rng.random() < 0.6:
            use.forward = ["h = torch.cat(list(%s.values()), dim=1)" % var]
            self.width = sum(entries.values())
            use.tag = "tdict.use.cat_values"
        else:
            key = next(iter(entries)) if entries else "a"
            use.forward = ["h = %s[%r]" % (var, key)]
            self.width = entries.get(key, w)
            use.tag = "tdict.use.key"
        self.add(use)

    def inplace(self):
        """In-place changes of the activation's shape, direct or through an alias, a list, or
        a function the analysis cannot follow."""
        rng = self.rng
        w = self.width
        n = self.size()
        item = Item(tag="", role="op")
        kind = rng.choice(["unsqueeze_", "t_", "transpose_", "resize_", "data", "set_",
                           "alias_resize_", "list_resize_", "exec_resize_", "invoke_resize_",
                           "unsqueeze_front", "as_strided_", "swapdims_"])
        if self.mode == "img" and kind in ("t_", "as_strided_"):
            kind = "resize_"
        if kind == "unsqueeze_":
            item.forward = ["h.unsqueeze_(1)", "g = h * 1", "h.squeeze_(1)", "h = h * 1"]
        elif kind == "t_":
            item.forward = ["h.t_()", "g = h + 0", "h.t_()", "h = h + 0"]
        elif kind == "transpose_":
            item.forward = ["h.transpose_(0, 1)", "g = h + 0", "h.transpose_(0, 1)",
                            "h = h + 0"]
        elif kind == "swapdims_":
            item.forward = ["h.swapdims_(0, 1)", "g = h.relu()", "h.swapdims_(0, 1)",
                            "h = h + 0"]
        elif kind == "unsqueeze_front":
            item.forward = ["h.unsqueeze_(0)", "g = h * 2", "h.squeeze_(0)", "h = h * 1"]
        elif kind == "resize_":
            item.forward = ["h.resize_(%s)" % self.resize_args(n), "h = h + 0"]
            w = n
        elif kind == "data":
            item.forward = ["h.data = %s" % self.tensor(n), "h = h * 1"]
            w = n
        elif kind == "set_":
            item.forward = ["h.set_(%s)" % self.tensor(n), "h = h * 1"]
            w = n
        elif kind == "as_strided_":
            m = rng.randint(1, w)
            item.forward = ["h.as_strided_((h.shape[0], %d), (%d, 1))" % (m, w), "h = h * 1"]
            w = m
        elif kind == "alias_resize_":
            item.forward = ["g = h", "g.resize_(%s)" % self.resize_args(n), "h = h + 0"]
            w = n
        elif kind == "list_resize_":
            item.forward = ["pair = [h, h]", "pair[1].resize_(%s)" % self.resize_args(n),
                            "h = h + 0"]
            w = n
        elif kind == "exec_resize_":
            fn = self.name("reshape_in_place")
            ns = self.name("_ns")
            code = "def %s(t, n):\n    t.resize_(t.shape[0], n, *t.shape[2:])\n" % fn
            item.prelude = ["%s = {}" % ns, "exec(%r, %s)" % (code, ns),
                            "%s = %s[%r]" % (fn, ns, fn)]
            item.forward = ["%s(h, %d)" % (fn, n), "h = h + 0"]
            w = n
        else:
            item.imports = ("from %s import invoke" % OPAQUE,)
            item.forward = ["invoke(h, 'resize_', %s)" % self.resize_args(n), "h = h + 0"]
            w = n
        if self.mode == "img" and kind in ("unsqueeze_",):
            item.forward = [ln.replace("(1)", "(2)") for ln in item.forward]
        item.tag = "inplace.%s" % kind
        self.add(item)
        self.width = w

    def branch(self):
        """A layer applied on a path the analysis cannot decide (or can)."""
        rng = self.rng
        w = self.width
        attr = self.name("b")
        n = rng.choice([w, self.size()])
        lay = self.lin(self.cin(w), n)
        item = Item(tag="", role="op", init=["self.%s = %s" % (attr, lay[0])])
        kind = rng.choice(["coin", "opaque_loop", "decided", "decided_loop", "while"])
        if not self.coin_ok(2) and kind in ("coin", "opaque_loop"):
            kind = "decided"
        if kind == "coin":
            self.draws += 1
            item.forward = ["if %s:" % self.condition(item), "    h = self.%s(h)" % attr]
            self.width = n if rng.random() < 0.5 else w
            if rng.random() < 0.5:
                other = self.name("c")
                item.init.append("self.%s = %s" % (other, self.lin(self.cin(w), n)[0]))
                item.forward += ["else:", "    h = self.%s(h)" % other]
                self.width = n
        elif kind == "opaque_loop":
            self.draws += 1
            item.forward = ["for _ in range(int(random.random() * 3)):",
                            "    h = self.%s(h)" % attr]
            self.width = w if rng.random() < 0.5 else n
        elif kind == "decided":
            flag = self.name("DEPTH")
            k = rng.randint(0, 2)
            item.prelude = ["%s = %d" % (flag, k)]
            item.forward = ["if %s > 0:" % flag, "    h = self.%s(h)" % attr]
            self.width = n if k > 0 else w
        elif kind == "decided_loop":
            k = rng.randint(0, 2) if n == w else rng.randint(0, 1)
            item.forward = ["for _ in range(%d):" % k, "    h = self.%s(h)" % attr]
            self.width = n if k > 0 else w
        else:
            item.forward = ["while h.shape[1] < %d:" % (w * 3), "    h = torch.cat([h, h], 1)"]
            while w < self.width * 3:
                w *= 2
            self.width = w
            item.init = []
        item.tag = "branch.%s" % kind
        self.add(item)

    def plain_op(self):
        """Modelled tensor operations, so that shapes flow between the other items."""
        rng = self.rng
        w = self.width
        kind = rng.choice(["relu", "cat_self", "slice", "reshape", "stack_mean", "add_self",
                           "chunk_first", "split_iter"])
        item = Item(tag="op." + kind, role="op")
        if kind == "relu":
            item.forward = ["h = F.relu(h)"]
        elif kind == "cat_self":
            item.forward = ["h = torch.cat([h, h], dim=1)"]
            w *= 2
        elif kind == "slice":
            k = rng.randint(1, w)
            item.forward = ["h = h[:, :%d]" % k]
            w = k
        elif kind == "reshape":
            item.forward = ["h = h.reshape(h.shape[0], %s)" % (
                "-1" if self.mode == "vec" else "h.shape[1], h.shape[2], -1")]
        elif kind == "stack_mean":
            item.forward = ["h = torch.stack([h, h * 2], dim=0).mean(0)"]
        elif kind == "add_self":
            item.forward = ["h = h + h"]
        elif kind == "chunk_first":
            k = rng.randint(1, 2)
            item.forward = ["parts = h.chunk(%d, dim=1)" % k, "h = parts[0]"]
            w = -(-w // k)
        else:
            item.forward = ["acc = []", "for piece in h.split(1, dim=1):",
                            "    acc.append(piece * 2)", "h = torch.cat(acc, dim=1)"]
        self.add(item)
        self.width = w

    def unmodelled_op(self):
        """Tensor operations the analysis may or may not model: a shape it gives must be
        right."""
        rng = self.rng
        w = self.width
        kinds = ["topk", "gather", "where", "diff", "roll", "cummax", "unfold", "kron_ones",
                 "fft", "cdist", "sort", "tril", "flip", "repeat_interleave", "narrow"]
        kind = rng.choice(kinds)
        item = Item(tag="unmod." + kind, role="op")
        f = item.forward
        if kind == "topk":
            k = rng.randint(1, w)
            f.append("h = torch.topk(h, %d, dim=1).values" % k)
            w = k
        elif kind == "gather":
            k = self.size()
            idx_shape = "h.shape[0], %d" % k if self.mode == "vec" else \
                "h.shape[0], %d, h.shape[2], h.shape[3]" % k
            f += ["idx = torch.zeros(%s, dtype=torch.long)" % idx_shape,
                  "h = torch.gather(h, 1, idx)"]
            w = k
        elif kind == "where":
            f.append("h = torch.where(h > 0, h, torch.zeros_like(h))")
        elif kind == "diff":
            f.append("h = torch.diff(torch.cat([h, h], dim=1), dim=1)")
            w = 2 * w - 1
        elif kind == "roll":
            f.append("h = h.roll(1, dims=1)")
        elif kind == "cummax":
            f.append("h = torch.cummax(h, dim=1)[0]")
        elif kind == "unfold":
            if self.mode == "vec":
                f.append("h = h.unfold(1, 1, 1).sum(-1)")
            else:
                f.append("h = F.fold(F.unfold(h, 1), (h.shape[2], h.shape[3]), 1)")
        elif kind == "kron_ones":
            f.append("h = torch.kron(h, torch.ones(1, 2%s))" % (
                "" if self.mode == "vec" else ", 1, 1"))
            w *= 2
        elif kind == "fft":
            f.append("h = torch.fft.fft(h, dim=1).real")
        elif kind == "cdist":
            if self.mode == "vec":
                f.append("h = torch.cdist(h, h)")
                w = None
            else:
                f.append("h = h.abs()")
        elif kind == "sort":
            f.append("h = torch.sort(h, dim=1).values")
        elif kind == "tril":
            f.append("h = torch.tril(h)")
        elif kind == "flip":
            f.append("h = torch.flip(h, dims=[1])")
        elif kind == "repeat_interleave":
            f.append("h = h.repeat_interleave(2, dim=1)")
            w *= 2
        else:
            k = rng.randint(1, w)
            f.append("h = h.narrow(1, 0, %d)" % k)
            w = k
        self.add(item)
        if w is None:
            self.width = self.batch  # cdist: [B, B]; the generator knows B of the first input
        else:
            self.width = w

    def model_level(self):
        """Things done to the whole model at module level."""
        rng = self.rng
        kind = rng.choice(["ident", "train_eval", "apply_init", "requires_grad", "to_float"])
        item = Item(tag="model." + kind, role="op")
        if kind == "ident":
            item.imports = ("from %s import ident" % OPAQUE,)
            item.post = ["model = ident(model)"]
        elif kind == "train_eval":
            item.post = ["model.train(False)"]
        elif kind == "apply_init":
            item.post = ["model.apply(lambda m: nn.init.ones_(m.weight) "
                         "if isinstance(m, nn.Linear) else None)"]
        elif kind == "requires_grad":
            item.post = ["model.requires_grad_(False)"]
        else:
            item.post = ["model = model.float()"]
        self.add(item)


def generate(seed: int) -> Program:
    """The random program of ``seed``."""
    return Gen(seed).program()


# ------------------------------------------------------------------------------ running it

class _Settings:
    @property
    def flag(self):
        return random.random() < 0.5


def opaque_module():
    """The module behind ``from soundgen_opaque import ...``: ordinary Python the analysis has
    no source for."""
    mod = types.ModuleType(OPAQUE)
    mod.invoke = lambda obj, method, *args: getattr(obj, method)(*args)
    mod.call = lambda fn, *args: fn(*args)
    mod.ident = lambda obj: obj
    mod.settings = _Settings()
    return mod


class Draws:
    """``random.random`` for one run: the outcomes in ``script``, then LOW."""

    def __init__(self, script):
        self.script = list(script)
        self.taken = []

    def __call__(self):
        i = len(self.taken)
        choice = self.script[i] if i < len(self.script) else 0
        self.taken.append(choice)
        if len(self.taken) > MAX_DRAWS * 4:
            raise _TooManyDraws()
        return HIGH if choice else LOW


class _TooManyDraws(BaseException):
    pass


@dataclasses.dataclass
class Run:
    facts: dict            # (line, name) -> {shape}
    executed: set          # lines executed
    errors: list           # (exception, lines of the program on its traceback), per statement
    draws: list

    @property
    def error_lines(self) -> set:
        return {line for _, lines in self.errors for line in lines}


@dataclasses.dataclass
class Truth:
    runs: list
    complete: bool         # every combination of draws was run

    @property
    def facts(self) -> dict:
        out = {}
        for run in self.runs:
            for key, shapes in run.facts.items():
                out.setdefault(key, set()).update(shapes)
        return out


def bound_lines(tree) -> dict:
    """line -> names a one-line assignment or ``for`` on that line binds."""
    out = {}

    def names(t):
        if isinstance(t, ast.Name):
            yield t.id
        elif isinstance(t, (ast.Tuple, ast.List)):
            for e in t.elts:
                yield from names(e)
        elif isinstance(t, ast.Starred):
            yield from names(t.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            targets = [node.target]
        elif isinstance(node, ast.For):
            targets = [node.target]
        else:
            continue
        for t in targets:
            out.setdefault(node.lineno, set()).update(names(t))
    return out


def run_once(statements, bound, script, torch):
    """Run the program's module-level ``statements`` (compiled one by one) with the draws of
    ``script``.  A statement that raises is recorded and the next one runs, like the analysis
    goes on after an error: a later call (``y2 = model(x2)``) is still held to torch."""
    facts, executed, errors = {}, set(), []
    tensor = torch.Tensor

    def record(line, name, value):
        facts.setdefault((line, name), set()).add(tuple(int(d) for d in value.shape))

    def global_trace(frame, event, arg):
        co = frame.f_code
        if co.co_filename != FILENAME:
            return None
        nparams = co.co_argcount + co.co_kwonlyargcount + \
            bool(co.co_flags & inspect.CO_VARARGS) + bool(co.co_flags & inspect.CO_VARKEYWORDS)
        for name in co.co_varnames[:nparams]:
            value = frame.f_locals.get(name)
            if isinstance(value, tensor):
                record(co.co_firstlineno, name, value)
        state = {"prev": None, "failed": False}

        def local(frame, event, arg):
            if event in ("line", "return"):
                prev = state["prev"]
                if prev is not None and not state["failed"]:
                    f_locals = frame.f_locals
                    for name in bound.get(prev, ()):
                        value = f_locals.get(name)
                        if isinstance(value, tensor):
                            record(prev, name, value)
                state["failed"] = False
                if event == "line":
                    state["prev"] = frame.f_lineno
                    executed.add(frame.f_lineno)
            elif event == "exception":
                state["failed"] = True
            return local
        return local

    draws = Draws(script)
    saved = random.random, sys.modules.get(OPAQUE)
    random.random = draws
    sys.modules[OPAQUE] = opaque_module()
    old = sys.gettrace()
    torch.manual_seed(0)
    grad = torch.is_grad_enabled()
    module = types.ModuleType("__soundgen__")  # in sys.modules, as dataclasses want
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    try:
        for code in statements:
            sys.settrace(global_trace)
            try:
                exec(code, namespace)
            except Exception as exc:  # the program's own error: what we are after
                lines = []
                tb = exc.__traceback__
                while tb is not None:
                    if tb.tb_frame.f_code.co_filename == FILENAME:
                        lines.append(tb.tb_lineno)
                    tb = tb.tb_next
                errors.append((exc, lines))
            finally:
                sys.settrace(old)
    finally:
        torch.set_grad_enabled(grad)
        sys.modules.pop(module.__name__, None)
        random.random = saved[0]
        if saved[1] is None:
            sys.modules.pop(OPAQUE, None)
        else:
            sys.modules[OPAQUE] = saved[1]
    return Run(facts, executed, errors, draws.taken)


def run_all_paths(source: str) -> Truth:
    """Run ``source`` once per combination of its undecidable draws."""
    import torch
    tree = ast.parse(source)
    statements = [compile(ast.Module([stmt], []), FILENAME, "exec") for stmt in tree.body]
    bound = bound_lines(tree)
    runs = []
    todo = [[]]
    complete = True
    while todo:
        script = todo.pop()
        if len(runs) >= MAX_PATHS:
            complete = False
            break
        try:
            run = run_once(statements, bound, script, torch)
        except _TooManyDraws:
            complete = False
            break
        runs.append(run)
        for i in range(len(script), len(run.draws)):
            todo.append(run.draws[:i] + [1])
    return Truth(runs, complete)


# ------------------------------------------------------------------------------ comparing

@dataclasses.dataclass(frozen=True)
class Disagreement:
    kind: str       # wrong-shape | mixed-shapes | false-error | undecided-error | crash
    line: int
    name: str
    detail: str

    def __str__(self):
        return "%s at line %d%s: %s" % (self.kind, self.line,
                                          " (%s)" % self.name if self.name else "", self.detail)


def analysis_of(source: str):
    """(shape facts as {(line, name): [shape]}, error lines {line: message}, internal errors)."""
    from shapelens.analysis import analyze
    report = analyze(source, FILENAME)
    shapes = {}
    for fact in report.shapes:
        shapes.setdefault((fact.range.start_line, fact.name), []).append(fact.shape)
    errors = {}
    for d in report.diagnostics:
        if d.severity == "error":
            errors.setdefault(d.range.start_line, "%s: %s" % (d.code, d.message.splitlines()[0]))
    return shapes, errors, list(report.extra.get("internal_errors") or [])


def fits(shape, seen) -> bool:
    """An analysis shape against one torch shape: same rank, and every int dim equal (an
    unknown or a symbolic dim claims no size)."""
    if shape is None:
        return True
    if len(shape) != len(seen):
        return False
    return all(type(d) is not int or d == s for d, s in zip(shape, seen))


def is_symbolic(shape) -> bool:
    return shape is not None and any(d is not None and type(d) is not int for d in shape)


def fmt(shape):
    if shape is None:
        return "[?]"
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def compare(source: str, truth: Truth, analysis=None):
    """Disagreements of the analysis with torch, and counts for coverage:
    (disagreements, {"facts": n, "exact": n, "raising": n, "found": n})."""
    shapes, errors, internal = analysis if analysis is not None else analysis_of(source)
    out = []
    for err in internal:
        out.append(Disagreement("crash", 0, "", str(err)[:200]))
    facts = truth.facts
    exact = 0
    for key, seen in facts.items():
        got = shapes.get(key)
        if got and all(s is not None and all(type(d) is int for d in s) and tuple(s) in seen
                       for s in got):
            exact += 1
    for (line, name), got in sorted(shapes.items()):
        seen = facts.get((line, name))
        if not seen:
            continue  # torch never bound a tensor there: nothing to hold it to
        for shape in got:
            if not any(fits(shape, s) for s in seen):
                out.append(Disagreement("wrong-shape", line, name, "analysis %s, torch %s" % (
                    fmt(shape), " or ".join(str(list(s)) for s in sorted(seen)))))
        if any(is_symbolic(s) for s in got) and \
                any(s is not None and not is_symbolic(s) for s in got):
            out.append(Disagreement("mixed-shapes", line, name, "analysis %s beside %s: a "
                                    "hypothetical analysis on a line a real sample reaches" % (
                                        " and ".join(fmt(s) for s in got if is_symbolic(s)),
                                        " and ".join(fmt(s) for s in got
                                                     if not is_symbolic(s)))))
    for line, message in sorted(errors.items()):
        ran = [r for r in truth.runs if line in r.executed]
        raised = [r for r in ran if line in r.error_lines]
        if not ran:
            continue  # never reached (an earlier error on every path): nothing to compare
        if not raised:
            out.append(Disagreement("false-error", line, "", "%s; torch ran the line without "
                                    "error on %d of %d paths" % (message[:120], len(ran),
                                                                  len(truth.runs))))
        elif len(raised) < len(ran):
            out.append(Disagreement("undecided-error", line, "", "%s; torch raised there on %d "
                                    "of the %d paths that ran it" % (message[:120], len(raised),
                                                                     len(ran))))
    raising = all(r.errors for r in truth.runs)
    found = raising and any(all(line in r.error_lines for r in truth.runs) for line in errors)
    return out, {"facts": len(facts), "exact": exact, "raising": int(raising),
                 "found": int(found)}


def check(seed: int):
    """(program, truth, disagreements, counts) of one seed; truth None when the program has too
    many paths to run them all."""
    program = generate(seed)
    source = program.source()
    truth = run_all_paths(source)
    if not truth.complete:
        return program, None, [], {}
    dis, counts = compare(source, truth)
    return program, truth, dis, counts


# ------------------------------------------------------------------------------ shrinking

def reduce(program: Program, still_fails: Callable[[str], bool]) -> set:
    """The indices of a small set of items whose program still fails (greedy, one item and
    its dependents at a time, until nothing more can go)."""
    keep = set(range(len(program.items)))
    changed = True
    while changed:
        changed = False
        for i in sorted(keep, reverse=True):
            if i not in keep:
                continue
            trial = keep - program.closure(i)
            if trial and still_fails(program.source(trial)):
                keep = trial
                changed = True
    return keep


def failure_kinds(source: str) -> set:
    """The disagreement kinds of a program text (for shrinking), empty when it agrees or has
    too many paths."""
    truth = run_all_paths(source)
    if not truth.complete:
        return set()
    dis, _ = compare(source, truth)
    return {d.kind for d in dis}


def line_owner(program: Program, keep, line: int) -> Optional[Item]:
    """The item that wrote ``line`` of ``program.source(keep)``, or None (the frame)."""
    lines = program.lines(keep)
    if 1 <= line <= len(lines) and lines[line - 1][1] is not None:
        return program.items[lines[line - 1][1]]
    return None
