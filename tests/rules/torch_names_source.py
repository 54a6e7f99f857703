"""Computes the sets of server/shapelens/analysis/rules/torch_names.py from the installed torch
(``compute()``, used by test_torch_names.py); run as a script, prints them to paste there."""
import ast
import inspect
import os

import torch
import torch.nn as nn


def compute():
    """(MODULE, CONTAINER, LAYER) name sets of this torch (see torch_names.py)."""
    module_names = set(dir(nn.Module)) | set(nn.Module().__dict__)
    container_names = set()
    for c in (nn.Sequential, nn.ModuleList, nn.ModuleDict, nn.ParameterList, nn.ParameterDict):
        container_names |= set(dir(c)) | set(c().__dict__)
    container_names -= module_names
    layer_names = set()
    for name in dir(nn):
        c = getattr(nn, name)
        if isinstance(c, type) and issubclass(c, nn.Module):
            layer_names |= set(dir(c))
    root = os.path.dirname(inspect.getfile(nn.Module))
    for f in sorted(os.listdir(root)):
        if not f.endswith(".py"):
            continue
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for n in ast.walk(tree):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and \
                    n.value.id == "self" and isinstance(n.ctx, ast.Store):
                layer_names.add(n.attr)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", "") in (
                    "register_buffer", "register_parameter", "add_module", "register_module") \
                    and n.args and isinstance(n.args[0], ast.Constant) and \
                    isinstance(n.args[0].value, str):
                layer_names.add(n.args[0].value)
            if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setattr" and \
                    len(n.args) > 1 and isinstance(n.args[1], ast.Constant):
                layer_names.add(n.args[1].value)
    layer_names -= module_names | container_names
    return module_names, container_names, layer_names


def fmt(name, names):
    out, line = [], "    "
    for item in sorted(names):
        piece = repr(item) + ", "
        if len(line) + len(piece) > 99:
            out.append(line.rstrip())
            line = "    "
        line += piece
    out.append(line.rstrip())
    return "%s = frozenset({\n%s\n})\n" % (name, "\n".join(out))


if __name__ == "__main__":
    print("# torch %s" % torch.__version__)
    for label, names in zip(("MODULE", "CONTAINER", "LAYER"), compute()):
        print(fmt(label, names))
