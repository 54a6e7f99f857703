"""``import`` statements: names the rule tables model (torch, einops, torchvision's transforms
and datasets...) by qualified name; everything else through the resolver, from source: the
workspace's modules and the selected environment's installed packages (library code, such as
``torchvision.models``), analysed like the user's own.

Each module's top level runs once per analysis, and, when the resolver carries a
:class:`~.modules.ModuleCache`, once per run for every importer (see modules.py).  Library code
has a part of the budget of its own (``LIBRARY_STEPS`` statements per analysis, budget.py), and
a package's top level an allowance of its own (``IMPORT_STEPS``, not charged to the analysis:
it runs once per run or session): past either, what it would have computed is unknown, never a
hang; a package past its allowance stays unknown for the rest of the run.
"""
from __future__ import annotations

from typing import Optional

from .. import widths
from ..resolver import Importer, relative_base
from ..source import Source
from ..values import ListVal, TorchRef, TupleVal, Unknown
from .budget import IMPORT_DEPTH, MAX_NESTING, LibraryBudget
from .modules import entry_for, mark_too_large, store_entry, too_large
from .program import ALIASES, KNOWN_ROOTS, Frame, ModuleEnv, UserModuleRef, normalize

# Packages whose names the rule tables model even where the rest of their library is read from
# source (torchvision's transforms and datasets are tables in rules/, its models are code).
RULE_PACKAGES = ("torchvision.transforms", "torchvision.datasets", "torchvision.io",
                 "torchvision.extension", "torchvision._C")

# Libraries read from source when the environment has them; without them, their names are
# treated like the rule tables' (unknown unless a rule models them).
SOURCE_FIRST = {"torchvision"}


def by_rules(name: str) -> bool:
    """``name`` (a dotted module or attribute name) is modelled by the rule tables."""
    if name.split(".")[0] in KNOWN_ROOTS:
        return True
    return any(name == p or name.startswith(p + ".") for p in RULE_PACKAGES)


class Imports:
    """``import`` / ``from ... import``."""

    def stmt_Import(self, node, frame):
        for alias in node.names:
            name = alias.name
            root = name.split(".")[0]
            if alias.asname:
                frame.vars[alias.asname] = self.import_value(name, frame.env)
            else:
                frame.vars[root] = self.import_value(root, frame.env)

    def stmt_ImportFrom(self, node, frame):
        module = node.module or ""
        absolute = self.absolute_name(module, frame.env, node.level)
        if absolute and (by_rules(absolute) or all(
                a.name != "*" and by_rules(absolute + "." + a.name) for a in node.names)):
            # (``from torchvision import transforms``: rule names, torchvision not loaded)
            self.import_rule_names(absolute, node.names, frame)
            return
        env = self.load_user_module(module, frame.env, node.level)
        if env is None and node.level == 0 and module.split(".")[0] in SOURCE_FIRST:
            self.import_rule_names(module, node.names, frame)
            return
        for alias in node.names:
            if alias.name == "*":
                if env is not None:
                    frame.vars.update(self.public_names(env))
                continue
            if env is not None and alias.name in env.globals:
                value = env.globals[alias.name]
            elif env is not None:
                value = self.package_attribute(env, alias.name)
            else:
                value = Unknown("module %s could not be resolved" % ("." * node.level + module))
            frame.vars[alias.asname or alias.name] = value

    def absolute_name(self, module, env, level) -> Optional[str]:
        """The absolute name ``from <level dots><module> import`` names, when known."""
        if level == 0:
            return module
        if self.resolver is None or not hasattr(self.resolver, "package_of"):
            return None
        package = self.resolver.package_of(self.importer(env))
        base = relative_base(package, level) if package is not None else None
        if base is None:
            return None
        return ".".join(base + ([module] if module else []))

    def importer(self, env) -> Importer:
        return Importer(env.src.path, None if env.is_main else env.name, self.rec.src.path)

    def import_rule_names(self, module, names, frame):
        base = ALIASES.get(module, module)
        for alias in names:
            if alias.name != "*":
                frame.vars[alias.asname or alias.name] = TorchRef(normalize(base + "." +
                                                                            alias.name))

    @staticmethod
    def public_names(env):
        """What ``from module import *`` binds: ``__all__``, else the names without ``_``."""
        listed = env.globals.get("__all__")
        if type(listed) in (ListVal, TupleVal):
            names = [getattr(i, "value", None) for i in listed.items]
            if all(isinstance(n, str) for n in names):
                return {n: env.globals[n] for n in names if n in env.globals}
        return {k: v for k, v in env.globals.items() if not k.startswith("_")}

    def package_attribute(self, env, attr):
        """``package.attr`` where ``attr`` is not a name the package's code bound: the
        submodule of that name (or what the rule tables model)."""
        name = env.name + "." + attr
        if by_rules(name):
            return TorchRef(normalize(name))
        sub = self.load_user_module(name, env, 0)
        if sub is not None:
            return UserModuleRef(sub)
        return Unknown("%s is not defined in %s" % (attr, env.name))

    def import_value(self, name, env):
        if by_rules(name):
            return TorchRef(normalize(name))
        loaded = self.load_user_module(name, env, 0)
        if loaded is not None:
            return UserModuleRef(loaded)
        if name.split(".")[0] in SOURCE_FIRST:
            return TorchRef(normalize(name))
        return Unknown("module %s could not be resolved" % name)

    def load_user_module(self, module, env, level) -> Optional[ModuleEnv]:
        if self.resolver is None:
            return None
        # As Python does, a module's packages run first (``import a.b.c`` runs a, a.b, then
        # a.b.c): what a package's __init__ imports, and in which order, is then Python's.
        absolute = self.absolute_name(module, env, level)
        if absolute and "." in absolute:
            parent = absolute.rsplit(".", 1)[0]
            if parent not in self.parents_run and not by_rules(parent):
                self.parents_run.add(parent)
                self.load_user_module(parent, env, 0)
        try:
            found = self.resolver(module, self.importer(env), level)
        except (OSError, ValueError):
            return None
        if found is None:
            return None
        if self.loading:        # what the module being loaded imports, whatever way
            self.loading[-1].add(found.path)
        loaded = self.modules.get(found.path)
        if loaded is not None:
            return loaded
        cached = entry_for(self.resolver, found)
        if cached is None and too_large(self.resolver, found):
            return None     # its top level ran past the import allowance before: unknown
        if cached is not None:
            for path, sub in cached.envs.items():
                if path in self.modules:
                    continue
                self.modules[path] = sub
                self.note_file(sub)
                self.dependencies.append(path)
                for kind, why in getattr(sub, "widths", {}).items():
                    widths.unsure(kind, why)    # what its top level made (widths.py)
            self.closures[found.path] = set(cached.envs)
            return self.modules[found.path]
        return self.run_imported(found)

    def note_file(self, env):
        """Tell the recorder how messages and hovers name this imported file."""
        self.rec.other_files[env.src.path] = env    # (named when a message needs it)

    # ---------------------------------------------------------------- the library budget

    def enter_library(self, fn, args, kwargs, node, frame, cls):
        """A call from the user's code into library code, within the library budget."""
        if self.budget.library_steps > self.budget.max_library:
            return Unknown("library code past the analysis budget")
        try:
            return self.call_function(fn, args, kwargs, node, Frame(fn.env), cls)
        except LibraryBudget:
            self.rec.note("library code past the analysis budget: its results are unknown")
            return Unknown("library code past the analysis budget")

    def run_imported(self, found) -> Optional[ModuleEnv]:
        """Run a module's top level (once per analysis), then share it (modules.py)."""
        from ..source import find_shape_comments, parse
        budget = self.budget
        if budget.depth + IMPORT_DEPTH > MAX_NESTING:
            budget.too_deep("imports")      # a chain of imports too long: that module is unknown
            return None
        tree, _ = parse(found.text, found.path, imported=True)
        if tree is None:
            return None
        src = Source(found.text, found.path)
        sub = ModuleEnv(src, tree, found.name, find_shape_comments(src), is_main=False)
        sub.library = found.library
        self.modules[found.path] = sub
        self.note_file(sub)
        self.dependencies.append(found.path)
        self.loading.append(set())
        saved = self.uncertain, self.library_forks, self.call_sites, self.inferring
        # A module's top level is the same whoever imports it: not under the importer's
        # undecided branches, call stack or input inference.
        self.uncertain, self.library_forks, self.call_sites, self.inferring = 0, 0, [], None
        complete = True
        frame = Frame(sub)
        frame.vars = sub.globals
        budget.depth += IMPORT_DEPTH
        noted = widths.WIDTHS.get()
        sub.widths = {}         # kinds its top level may make of another width, kept with it
        if noted is not None:
            noted.loading.append(sub.widths)
        try:
            if found.library:
                with budget.import_allowance(found.name.split(".")[0]):
                    self.exec_block(sub.tree.body, frame)
            else:
                self.exec_block(sub.tree.body, frame)
        except LibraryBudget:
            self.rec.note("library code past the analysis budget: %s is partly known"
                          % found.name)
            complete = False
            if found.library:
                mark_too_large(self.resolver, found)
        finally:
            budget.depth -= IMPORT_DEPTH
            self.uncertain, self.library_forks, self.call_sites, self.inferring = saved
            imported = self.loading.pop()
            if noted is not None:
                noted.loading.pop()
        # The module with everything it imported, directly or not: an entry holds them all
        # (a module that registers itself in another's registry is run again with it).
        closure = {found.path}
        for path in imported:
            closure |= self.closures.get(path, {path})
        self.closures[found.path] = closure
        if complete:
            store_entry(self.resolver, found, {p: self.modules[p] for p in closure
                                               if p in self.modules})
        if not self.loading and self.shared is not None:
            # Import-time changes (registrations) are part of the modules; from here on, a
            # change to what they made is the importer's own (modules.py).
            self.shared.watch_new()
        return sub
