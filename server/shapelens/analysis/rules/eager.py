"""How the code runs: eagerly, as ``python train.py`` (and the probe) run it.  Models test for
TorchScript, tracing, export and compilation to take another path (torchvision's GoogLeNet
returns a named tuple when scripted, the plain tensor otherwise): in eager mode each of these
tests is False, so the analysis follows the path the run takes.
"""
from __future__ import annotations

from ..values import Const
from . import function
from .call import Call


@function("torch.jit.is_scripting", "torch.jit.is_tracing", "torch._C._get_tracing_state",
          "torch.compiler.is_compiling", "torch.compiler.is_dynamo_compiling",
          "torch.compiler.is_exporting", "torch._dynamo.is_compiling",
          "torch._utils.is_compiling", "torch.onnx.is_in_onnx_export",
          "torch.fx._symbolic_trace.is_fx_tracing")
def not_scripted(call: Call):
    # _get_tracing_state() is None when not tracing; the others are bools
    return Const(None if call.name.endswith("_get_tracing_state") else False)

