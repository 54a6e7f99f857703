"""``import`` statements: torch names by qualified name, workspace modules through the resolver."""
from __future__ import annotations

from typing import Optional

from ..source import Source
from ..values import TorchRef, Unknown
from .program import ALIASES, KNOWN_ROOTS, ModuleEnv, UserModuleRef, normalize


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
        if node.level == 0 and module.split(".")[0] in KNOWN_ROOTS:
            base = ALIASES.get(module, module)
            for alias in node.names:
                if alias.name == "*":
                    continue
                q = normalize(base + "." + alias.name)
                frame.vars[alias.asname or alias.name] = TorchRef(q)
            return
        env = self.load_user_module(module, frame.env, node.level)
        for alias in node.names:
            if alias.name == "*":
                if env is not None:
                    for k, v in env.globals.items():
                        if not k.startswith("_"):
                            frame.vars[k] = v
                continue
            if env is not None and alias.name in env.globals:
                value = env.globals[alias.name]
            elif env is not None:
                sub = self.load_user_module(module + "." + alias.name if module else alias.name,
                                            frame.env, node.level)
                value = UserModuleRef(sub) if sub is not None else \
                    Unknown("%s is not defined in %s" % (alias.name, module))
            else:
                value = Unknown("module %s could not be resolved" % ("." * node.level + module))
            frame.vars[alias.asname or alias.name] = value

    def import_value(self, name, env):
        if name.split(".")[0] in KNOWN_ROOTS:
            return TorchRef(normalize(name))
        loaded = self.load_user_module(name, env, 0)
        if loaded is not None:
            return UserModuleRef(loaded)
        return Unknown("module %s is not in the workspace" % name)

    def load_user_module(self, module, env, level) -> Optional[ModuleEnv]:
        if self.resolver is None:
            return None
        found = self.resolver(module, env.src.path, level)
        if found is None:
            return None
        path, text = found
        if path in self.modules:
            return self.modules[path]
        from ..source import find_shape_comments, parse
        tree, _ = parse(text, path)
        if tree is None:
            return None
        src = Source(text, path)
        sub = ModuleEnv(src, tree, module or path, find_shape_comments(src), is_main=False)
        self.modules[path] = sub
        self.dependencies.append(path)
        saved = self.uncertain
        try:
            self.run_module(sub)
        finally:
            self.uncertain = saved
        return sub

