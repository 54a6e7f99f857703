"""The budget of one analysis: how much it may do, how large the values it folds may grow, and
how deeply it may nest.  Checked where the work happens, so no input keeps an analysis (or the
server thread running it) busy for long or makes it hold much memory.

  steps   every statement executed (``exec_stmt``), expression evaluated (``eval``), module
          called (``call_module``, ``MODULE_CALL`` steps each) and comprehension item: loop
          iterations and calls are made of these.  Past ``MAX_STEPS`` the analysis stops: the
          rest of the file is unknown, what was found before stays.
  library statements of installed code, ``LIBRARY_STEPS`` at most: past it, calls into library
          code give unknown values and the analysis goes on (imports.py).
  imports the top level of an installed package runs on an allowance of its own,
          ``IMPORT_STEPS`` library statements (and 4 steps each) and ``IMPORT_BUILT`` items
          folded for the package's modules,
          another package it imports on one of its own: it runs once per run or server
          session and is shared (modules.py), so it is charged neither to the analysis that
          happened to import it first nor to the package that imports it (timm is not cut
          short by huggingface_hub, which it imports).  Past it, the package is unknown, in
          this analysis and the later ones.
  sizes   a constant the analysis folds (an int, a str or bytes, a list or tuple) is computed
          only up to ``MAX_INT_BITS`` bits or ``MAX_LENGTH`` items: a larger one is unknown.
          Everything folded (and every list copied to be iterated) counts against
          ``MAX_BUILT`` together; past it the analysis stops.
  depth   expressions, module calls and imports nested inside each other: past ``MAX_NESTING``
          the innermost is unknown (Python's own recursion limit, should it come first, stops
          the analysis as the step limit does).

Each limit reached leaves one note in the report, where:
``analysis budget reached at line 12: ...``.
"""
from __future__ import annotations

import re
import weakref

from ..dims import Sym

MAX_STEPS = 400_000         # a 2,000-line model file takes ~12,000, a small model ~400,
                            # torchvision's resnet18 built and called ~22,000
MODULE_CALL = 10            # steps a module call counts (the summary records each)
LIBRARY_STEPS = 50_000      # torchvision.models and a resnet18 forward: ~2,000
IMPORT_STEPS = 300_000      # timm: ~140,000 (~880,000 steps, 3 s)
IMPORT_BUILT = 1_000_000    # items folded by one package's top level (it stays in memory)
MAX_BUILT = 5_000_000       # characters, items and int bytes folded or copied, all together
MAX_LENGTH = 100_000        # one str, bytes, list or tuple
MAX_INT_BITS = 1 << 16      # one int (~19,700 decimal digits)
MAX_SYM_ATOMS = 1_000       # atoms in one symbolic dim's expanded polynomial
MAX_NESTING = 150           # nesting: about 2 Python frames each, under Python's limit of 1,000
IMPORT_DEPTH = 4            # an import nests as deep as 4 expressions (in Python frames)


class BudgetReached(BaseException):
    """The analysis stops (a BaseException, so that no ``except Exception`` meant for an
    analysis bug swallows it on the way out)."""


class LibraryBudget(BudgetReached):
    """Library code ran past ``LIBRARY_STEPS`` in one analysis (caught in imports.py)."""


class Budget:
    """What one analysis has spent.  Counters are plain attributes: ``eval`` and ``exec_stmt``
    update them inline, they are the interpreter's hottest paths.  Places in notes are the
    statement being executed (``interp.stmt``)."""

    __slots__ = ("interp", "steps", "library_steps", "built", "depth", "notes", "stopped",
                 "max_steps", "max_library", "max_built", "importing")

    def __init__(self, interp):
        # Weakly: the interpreter holds its budget, and a cycle between them would keep the
        # interpreter and all it holds alive after the analysis, for the garbage collector to
        # find (5% of a small file's analysis); without it they go when the analysis ends.
        self.interp = weakref.ref(interp)
        self.steps = 0
        self.library_steps = 0
        self.built = 0
        self.depth = 0
        self.notes: dict = {}       # note -> None, in order: one note per limit and place
        self.stopped = False
        self.max_steps = MAX_STEPS          # raised while a package's top level runs
        self.max_library = LIBRARY_STEPS
        self.max_built = MAX_BUILT
        self.importing = None               # the package whose top level runs

    def import_allowance(self, package: str):
        """Run a module of ``package`` on the import allowance (see above): a context of
        ``with``; the package's own imports of its modules run on the same allowance."""
        return _ImportAllowance(self, package)

    def spent(self) -> dict:
        return {"steps": self.steps, "library_steps": self.library_steps, "built": self.built}

    def step(self):
        """One step where no statement or expression is evaluated (a comprehension item)."""
        self.steps += 1
        if self.steps > self.max_steps:
            self.out_of_steps()

    def out_of_steps(self):
        if self.importing:
            raise LibraryBudget()
        raise self.stop("more than {:,} steps".format(MAX_STEPS))

    def stop(self, why) -> BudgetReached:
        """The exception that ends the analysis (raise it)."""
        if not self.stopped:
            self.stopped = True
            self.note("%s; the rest is unknown" % why)
        return BudgetReached(why)

    def note(self, what):
        """Say where and why (``notes``: message -> the line of the analysed file the
        analysis was at, where the user is told)."""
        main = self.interp().main_stmt
        self.notes.setdefault("analysis budget reached at %s: %s" % (self.place(), what),
                              getattr(main, "lineno", 1))

    def place(self) -> str:
        interp = self.interp()
        stmt, frame = interp.stmt, interp.stmt_frame
        line = getattr(stmt, "lineno", "?")
        if frame is None or frame.env.is_main:
            return "line %s" % line
        from ..recorder import shown_path     # as other messages name another file
        return "%s:%s" % (shown_path(frame.env, interp.rec.src.path), line)

    def too_deep(self, what):
        self.note("%s nested more than %d deep are unknown" % (what, MAX_NESTING))

    def library_step(self):
        self.library_steps += 1
        if self.library_steps > self.max_library:
            raise LibraryBudget()

    def fold(self, size) -> bool:
        """Whether a value of ``size`` (items, characters, or int bytes) may be folded; counts
        it against everything folded.  False: it is larger than one value may be."""
        if size > MAX_LENGTH:
            self.note("a value too large to follow (over {:,} items or characters, or {:,} "
                      "bits) is unknown".format(MAX_LENGTH, MAX_INT_BITS))
            return False
        self.built += size
        if self.built > self.max_built:
            if self.importing:
                raise LibraryBudget()
            raise self.stop("values of more than {:,} items in all".format(MAX_BUILT))
        return True


# ------------------------------------------------------------------------- folded constants

def const_size(name, a, b):
    """How large ``a <op> b`` would be (int bytes, str/bytes characters), estimated from the
    operands without computing it; None when it cannot grow past its operands' size."""
    ta, tb = type(a), type(b)
    if ta is Sym or tb is Sym:
        if name == "mul":
            atoms = sym_size(a) * sym_size(b)
        else:
            atoms = sym_size(a) + sym_size(b)
        return atoms if atoms <= MAX_SYM_ATOMS else MAX_LENGTH + 1
    if ta is int and tb is int or ta is bool or tb is bool:
        a, b = int(a), int(b)
        la, lb = a.bit_length(), b.bit_length()
        if name == "mul":
            bits = la + lb
        elif name == "pow":
            bits = la * max(b, 0) if b > 0 else 1
        elif name == "lshift":
            bits = la + max(b, 0) if b < MAX_INT_BITS else MAX_INT_BITS + 1
        elif name in ("add", "sub", "or_", "xor", "and_"):
            bits = max(la, lb) + 1
        else:
            return None
        return bits // 8 + 1 if bits <= MAX_INT_BITS else MAX_LENGTH + 1
    if name == "mul" and (ta is int) != (tb is int):
        seq, n = (b, a) if ta is int else (a, b)
        if type(seq) in (str, bytes):
            return len(seq) * max(n, 0)
        return None
    if name == "add" and ta is tb and ta in (str, bytes):
        return len(a) + len(b)
    if name == "mod" and ta in (str, bytes):
        # ``"%09999999d" % 1``: a width or precision makes a string of that size
        return len(a) + format_widths(a if ta is str else a.decode("latin-1"), b)
    return None


_WIDTH = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d+))?|[:.][^{}]?[<>=^]?[-+ ]?#?0?(\d+)")


def format_widths(text: str, args) -> int:
    """Characters the widths and precisions of a format (``%`` or ``str.format``) may add,
    with 64 per argument; a width taken from an argument (``%*d``, ``{:{}}``): the int args."""
    size = sum(int(w or 0) for m in _WIDTH.findall(text) for w in m)
    args = args if type(args) in (tuple, list) else (args,)
    if "*" in text or "{:{" in text or "{}}" in text:
        size += sum(abs(a) for a in args if type(a) is int)
    return size + sum(len(a) if type(a) is str else 64 for a in args)


def sym_size(d) -> int:
    """Atoms in a symbolic dim's expanded polynomial (an int: 1)."""
    terms = getattr(d, "terms", None)
    if terms is None:
        return 1
    return sum(len(mono) + 1 for mono, _ in terms) + 1


def str_result_size(text: str, name: str, args) -> int:
    """How long ``text.<name>(*args)`` may be (str methods folded on constants, methods.py)."""
    if name == "zfill" and args and type(args[0]) is int:
        return max(len(text), args[0])
    if name == "replace" and len(args) >= 2 and all(type(a) is str for a in args[:2]):
        old, new = args[0], args[1]
        return len(text) + (text.count(old) if old else len(text) + 1) * len(new)
    if name == "format":
        return len(text) + format_widths(text, args)
    if name == "join" and args and isinstance(args[0], list):
        return sum(len(s) for s in args[0]) + len(text) * len(args[0])
    return len(text)


def math_too_large(name: str, args) -> bool:
    """``math.factorial(10**7)`` and friends: results (and time) far past ``MAX_INT_BITS``."""
    if name in ("factorial", "comb", "perm"):
        return any(type(a) is int and abs(a) > 5_000 for a in args)
    if name == "prod":          # of the items of one iterable: bits add up
        return sum(abs(a).bit_length() for a in args if type(a) is int) > MAX_INT_BITS
    return False


class _ImportAllowance:
    __slots__ = ("budget", "package", "saved")

    def __init__(self, budget, package):
        self.budget = budget
        self.package = package
        self.saved = None

    def __enter__(self):
        b = self.budget
        if b.importing != self.package:
            self.saved = (b.steps, b.library_steps, b.built, b.max_steps, b.max_library,
                          b.max_built, b.importing)
            b.importing = self.package
            b.max_steps = b.steps + 4 * IMPORT_STEPS
            b.max_library = b.library_steps + IMPORT_STEPS
            b.max_built = b.built + IMPORT_BUILT

    def __exit__(self, *exc):
        if self.saved is not None:
            b = self.budget
            (b.steps, b.library_steps, b.built, b.max_steps, b.max_library, b.max_built,
             b.importing) = self.saved
        return False
