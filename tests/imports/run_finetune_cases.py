"""Runs fine-tuning case files for real (in .venv-vision: torch with torchvision) and prints,
as JSON, the shape of every tensor each top-level statement binds and where an exception was
raised.  Used by test_finetuning_vs_torch.py; not a test itself."""
import ast
import json
import sys

import torch


def shapes_of(value):
    if isinstance(value, torch.Tensor):
        return list(value.shape)
    return None


def run(path):
    tree = ast.parse(open(path).read(), path)
    scope = {"__name__": "__main__"}
    shapes, error = {}, None
    torch.manual_seed(0)
    for stmt in tree.body:
        code = compile(ast.Module([stmt], []), path, "exec")
        try:
            exec(code, scope)
        except Exception as exc:   # the first error ends the program, as it would
            error = {"line": stmt.lineno, "message": "%s: %s" % (type(exc).__name__, exc)}
            break
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        for target in targets:
            if isinstance(target, ast.Name) and shapes_of(scope.get(target.id)) is not None:
                shapes[stmt.lineno] = shapes_of(scope[target.id])
    return {"shapes": shapes, "error": error}


if __name__ == "__main__":
    with torch.no_grad():
        print(json.dumps({path: run(path) for path in sys.argv[1:]}))
