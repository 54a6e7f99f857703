"""torchinfo 1.8.0 as the oracle of the shape summary.

``run_models(path)`` runs a case file with torch and returns, for each model class the file
calls, the module and the input of its first outermost forward (caught with a profiler, so
``model.forward(x)`` counts too; a file that raises keeps what ran before).  ``torchinfo_table``
runs torchinfo's own hook machinery on that model and input, stopping where the forward raises
as torchinfo's forward pass does, and returns its rows and totals as plain values.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from typing import Dict, List, Optional

import torch
from torch import nn
from torchinfo.formatting import FormattingOptions
from torchinfo.enums import ColumnSettings, RowSettings
from torchinfo.model_statistics import ModelStatistics
from torchinfo.torchinfo import (add_missing_container_layers, apply_hooks,
                                 get_total_memory_used, set_children_layers)

COLUMNS = (ColumnSettings.INPUT_SIZE, ColumnSettings.OUTPUT_SIZE, ColumnSettings.NUM_PARAMS,
           ColumnSettings.TRAINABLE, ColumnSettings.MULT_ADDS)


@dataclass
class Captured:
    cls: str
    module: nn.Module
    args: tuple


def run_file(path: str) -> Dict[str, object]:
    """Execute the file as ``python FILE`` would (``__main__``, its folder on sys.path, no
    arguments, its output discarded, its exception or exit if any swallowed); its globals."""
    text = open(path, encoding="utf-8").read()
    g = {"__name__": "__main__", "__file__": path}
    torch.manual_seed(0)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    argv, sys.argv = sys.argv, [path]
    default_dtype = torch.get_default_dtype()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(text, path, "exec"), g)
    except (Exception, SystemExit):
        pass
    finally:
        sys.argv = argv
        sys.path.pop(0)
        torch.set_default_dtype(default_dtype)      # a case may set it (widths_default_dtype)
    return g


def run_models(path: str):
    """({class name: Captured} of the outermost forwards the file runs, the file's globals)."""
    captured: Dict[str, Captured] = {}
    active: List[object] = []

    def profile(frame, event, arg):
        code = frame.f_code
        if code.co_name != "forward":
            return
        module = frame.f_locals.get("self")
        if not isinstance(module, nn.Module):
            return
        if event == "call":
            if not active:
                names = code.co_varnames[1:code.co_argcount]
                args = tuple(frame.f_locals[n] for n in names if n in frame.f_locals)
                name = _model_name(module, frame.f_back)
                captured.setdefault(name, Captured(name, module, args))
            active.append(frame)
        elif event == "return" and active and active[-1] is frame:
            active.pop()

    sys.setprofile(profile)
    try:
        g = run_file(path)
    finally:
        sys.setprofile(None)
    return captured, g


def _model_name(module, caller) -> str:
    """A model class defined by the case by its name; a torch module by the variable or the
    attribute the caller holds it in (as the static summary names it)."""
    cls = type(module)
    if not cls.__module__.startswith("torch."):
        return cls.__name__
    while caller is not None and caller.f_code.co_filename.startswith(torch.__path__[0]):
        caller = caller.f_back      # nn.Module.__call__ and its hooks
    if caller is not None:
        for name, value in caller.f_locals.items():
            if value is module:
                return name
        for value in caller.f_locals.values():      # self.fc3(z) in a method: "fc3"
            if isinstance(value, nn.Module):
                for name, child in value._modules.items():
                    if child is module:
                        return name
    return cls.__name__


@dataclass
class Row:
    kind: str
    var_name: str
    depth: int
    depth_index: int
    executed: bool
    input: Optional[list]
    output: Optional[list]
    params: int
    trainable_params: int
    macs: int
    leaf: bool
    recursive: bool
    params_text: str
    macs_text: str
    trainable_text: str


@dataclass
class Table:
    rows: List[Row]
    total_params: int
    trainable_params: int
    total_mult_adds: int
    output_bytes: int
    param_bytes: int
    input_bytes: int
    error: Optional[BaseException]


def torchinfo_table(model: nn.Module, args: tuple, depth: int = 3) -> Table:
    """torchinfo's summary of ``model(*args)`` in eval mode under no_grad, as torchinfo's
    ``forward_pass`` computes it; on an exception the rows it recorded until then."""
    x = list(args)
    summary_list, _, hooks = apply_hooks(type(model).__name__, model, x, None)
    saved = model.training
    error = None
    try:
        model.eval()
        with torch.no_grad():
            model(*x)
    except Exception as exc:
        error = exc
    finally:
        for pre_hook, hook in hooks.values():
            pre_hook.remove()
            hook.remove()
        model.train(saved)
    add_missing_container_layers(summary_list)
    set_children_layers(summary_list)
    formatting = FormattingOptions(depth, 0, COLUMNS, 25, {RowSettings.DEPTH})
    stats = ModelStatistics(summary_list, [], get_total_memory_used(x), formatting)
    rows = []
    for info in summary_list:
        if info.depth > depth:
            continue
        reached = info.depth == depth
        rows.append(Row(info.class_name, info.var_name, info.depth, info.depth_index or 0,
                        info.executed, list(info.input_size) if info.executed else None,
                        list(info.output_size) if info.executed else None, info.num_params,
                        info.trainable_params, info.macs, info.is_leaf_layer,
                        info.is_recursive, info.num_params_to_str(reached),
                        info.macs_to_str(reached), info.trainable))
    return Table(rows, stats.total_params, stats.trainable_params, stats.total_mult_adds,
                 stats.total_output_bytes, stats.total_param_bytes, _input_bytes(x), error)


def _input_bytes(data) -> int:
    """torchinfo's ``get_total_memory_used`` without what is not the tensors' bytes: it sizes
    each tensor (in tuples, lists and dicts too) by ``sys.getsizeof`` of its storage, which adds
    the Python object's own size, and sums non-tensor numbers in too (a ``True`` argument
    counts 1)."""
    if isinstance(data, torch.Tensor):
        return (sys.getsizeof(data.untyped_storage())
                - sys.getsizeof(torch.empty(0, dtype=data.dtype).untyped_storage()))
    if isinstance(data, dict):
        return sum(_input_bytes(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return sum(_input_bytes(v) for v in data)
    return 0
