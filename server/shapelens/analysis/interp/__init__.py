"""The abstract interpreter: walks a file's syntax tree once, evaluating every expression to an
abstract value (``values.py``), and records what it learns in a :class:`~..recorder.Recorder`.

One dispatcher (node class -> handler, as pyflakes does), one scope chain per call.  Module-level
code runs in order (``if __name__ == "__main__":`` included, since the file is the program);
calls into user functions, classes and ``nn.Module`` instances are followed with the caller's
values; torch calls go to the op rules (``rules/``).  Nothing is executed.

What the analysis cannot decide it does not guess: an ``if`` on an unknown condition runs both
branches and joins what they bind, a loop over an unknown iterable runs its body once with
unknown targets, and errors found on such paths are reported as warnings.

One interpreter, several rooms (as mypy splits its checker), each a mixin of :class:`Interpreter`
around the shared state set up in ``__init__``:

  program.py       files, user classes, functions, scopes; where torch names live
  statements.py    assignment and binding, control flow, definitions
  imports.py       ``import`` statements and workspace modules
  expressions.py   names, literals, operators, comparisons, comprehensions, truth
  members.py       attributes and subscripts
  calls.py         calls: torch rules, layers, user functions, classes and modules
  methods.py       methods of tensors, lists, dicts, containers, layers, instances; iteration
  builtins.py      Python's builtins
  declared.py      shapes declared by comments and annotations
  containers.py    torch containers: children by position, key and name; their changes
  soundness.py     paths the analysis cannot choose between, joins, and what unmodelled
                   operations may change
  shared.py        function results shared by every importer (modules.py: module top levels)
  data.py          data pipelines: images, arrays, transforms, datasets, loaders (SPEC §7)
  budget.py        how much one analysis may do, fold and nest
"""
from __future__ import annotations

from typing import Dict, List

from ..recorder import Recorder
from ..values import IN_PLACE, TensorCells
from .budget import Budget
from .builtins import Builtins
from .calls import Calls
from .containers import Containers
from .data import Data
from .declared import Declared, forward_comment
from .decorators import Decorators
from .expressions import Expressions
from .imports import Imports
from .members import Members
from .methods import Methods
from .program import BUILTINS, Frame, ModuleEnv
from .shared import Shared
from .soundness import Soundness
from .statements import Statements


class Interpreter(Statements, Imports, Expressions, Members, Calls, Methods, Builtins, Declared,
                  Containers, Soundness, Data, Decorators, Shared):
    """Evaluates files.  ``resolver(module, from_path, level)`` returns (path, text) of a
    workspace module or None; files it reads are listed in ``self.dependencies``."""

    def __init__(self, recorder: Recorder, resolver=None):
        self.rec = recorder
        self.resolver = resolver
        self.depth = 0
        self.uncertain = 0              # > 0 inside branches the analysis cannot decide
        self.library_forks = 0          # ... of them, library code's (calls.report_error)
        self.budget = Budget(self)      # what the analysis may spend (budget.py)
        self.shared = getattr(resolver, "cache", None)  # module results shared (modules.py)
        # shared modules changed before this analysis (shared.py: their results are used
        # while no more are)
        self.shared_changes = self.shared.changes if self.shared is not None else 0
        self.loading: List[set] = []    # modules being loaded: what each imported (imports.py)
        self.closures: Dict[str, set] = {}  # module path -> it and all it imports
        self.call_sites: List[tuple] = []   # (node, env, class name, args, instance) of user
        # module calls in progress
        self.active: dict = {}          # (id(function node), id(env)) -> its calls on the stack
        self.modules: Dict[str, ModuleEnv] = {}
        self.parents_run: set = set()   # packages run before a module of theirs (imports.py)
        self.dependencies: List[str] = []
        self.inferring = None           # InputInference while a module's input is inferred
        self.call_env = None            # env of the call expression being evaluated
        self.grad_enabled = True        # torch.is_grad_enabled(); None when not known
        self.builtins = BUILTINS
        self.logs: list = []            # open change logs (soundness.py)
        self.cells = IN_PLACE.get() or TensorCells()   # tensors changed in place
        self.escaping: set = set()      # functions handed to unseen code, being followed
        self.hypothetical = 0           # > 0 while a module runs on an input no code gave
        self.past_error = False         # the run went on past an error raised for certain
        self.in_try = 0                 # inside the body of a ``try``
        self._stmt = {}
        self.tree_reads: dict = {}      # what loops read in the tree, once (statements.py)
        self._expr = {}
        self.stmt = None                # the statement being executed, and its frame
        self.main_stmt = None           # the last statement of the analysed file executed
        self.layer_children: dict = {}  # (id(layer), name) -> (layer, spec, child)
        self.stmt_frame = None
        self.pending_data_errors = None  # errors of a dataset's transform, kept for later

    def run_module(self, env: ModuleEnv):
        frame = Frame(env)
        frame.vars = env.globals
        with self.separate_run():
            self.exec_block(env.tree.body, frame)
        return frame


__all__ = ["Interpreter", "ModuleEnv", "Frame", "forward_comment"]
