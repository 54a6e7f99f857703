"""Function results shared by every importer: a function of an imported module (workspace or
library), called with plain data (numbers, strings, None, tuples of them), whose run changed
nothing that existed before the call, reported nothing and left no note, and returned plain
data, gives the same result to every later call with the same arguments, in this analysis and
in the later ones of the run or server session (``_make_divisible(v, 8)``, ``get_padding(3, 2,
1)``, a registry's lookup of a name).

The results are kept with the module (its :class:`~.program.ModuleEnv`, shared through the
:class:`~.modules.ModuleCache`) and used only while no shared module has been changed in this
analysis (an importer's change makes its module's entry stale, modules.py): what such a function
read is then as it was when the result was made.  Functions defined inside other functions
(their closures), the analysed file's own, and calls under undecided branches or input inference
are not shared.
"""
from __future__ import annotations

from typing import Optional

from .. import widths
from ..values import Const, TupleVal

PLAIN = (int, float, bool, str, bytes, type(None))
MAX_RESULTS = 4_096         # results kept per module


def plain_key(value, depth=0):
    """A hashable key for plain data (numbers, strings, None, tuples of them), else None."""
    kind = type(value)
    if kind is Const and type(value.value) in PLAIN:
        return (type(value.value).__name__, value.value)
    if kind is TupleVal and depth < 4 and len(value.items) <= 16:
        items = tuple(plain_key(i, depth + 1) for i in value.items)
        return None if None in items else ("tuple", value.size, items)
    return None


class Shared:
    """Function results shared across calls, importers and analyses."""

    def shared_key(self, fn, args, kwargs) -> Optional[tuple]:
        """The key of this call among the module's shared results, or None when it is not
        one the analysis shares."""
        env = fn.env
        if env.is_main or fn.closure is not None or env.token is None or env.token.stale or \
                self.uncertain or self.inferring is not None or \
                self.shared.changes != self.shared_changes:
            return None
        key = [id(fn.node)]
        for a in args:
            k = plain_key(a)
            if k is None:
                return None
            key.append(k)
        for name in sorted(kwargs):
            k = plain_key(kwargs[name])
            if k is None:
                return None
            key.append((name, k))
        return tuple(key)

    def call_shared(self, key, fn, run):
        """``run()`` the call, or give the result shared under ``key``."""
        results = fn.env.results
        if key in results:
            self.shared.results_shared += 1
            return results[key]
        noted = widths.WIDTHS.get()
        before = (len(self.rec.diagnostics), len(self.rec.internal), len(self.rec.notes),
                  len(self.budget.notes), len(noted.kinds) if noted is not None else 0)
        log = self.open_log()
        try:
            result = run()
        finally:
            self.close_log(log)
        after = (len(self.rec.diagnostics), len(self.rec.internal), len(self.rec.notes),
                 len(self.budget.notes), len(noted.kinds) if noted is not None else 0)
        if not log.before and before == after and plain_key(result) is not None and \
                self.shared.changes == self.shared_changes and len(results) < MAX_RESULTS:
            results[key] = result
        return result
