"""Which data step set the size a shape error is about (SPEC §7).

A tensor that comes from a data pipeline carries its steps (``Tensor.pipeline``: the dataset or
``Image.new`` that made the image, then each transform, with the image's (C, H, W) after it).
When the model rejects it, the diagnostic names the step that last set the channel count (for
a channel error) or the spatial size (for the others), and, where one edit clearly fixes it,
offers to insert ``Grayscale(num_output_channels=N)`` into the ``Compose``.  For a size error
it keeps a :class:`ResizeRequest`: whether ``Resize((H, W))`` fixes it needs the model run on
other sizes, done after the analysis (resize_fix.py); :func:`resize_edit` places that step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .dims import format_dim
from .report import Fix, Loc, Range, Related, TextEdit
from .values import ListVal, Tensor, TorchRef, TupleVal

CHANNEL_CODES = ("conv-in-channels", "norm-features")
SPATIAL_CODES = ("linear-in-features", "spatial-collapse", "shape-mismatch", "matmul-mismatch",
                 "reshape-numel")
TO_TENSOR = ("ToTensor", "PILToTensor", "ToImage")


def explain(err, layer, args, call_sites, src) -> Optional[tuple]:
    """(related, fixes) for an error whose input came from a data pipeline, or None."""
    if err.code not in CHANNEL_CODES and err.code not in SPATIAL_CODES:
        return None
    pipeline = _pipeline(args)
    for site in reversed(call_sites):
        if pipeline:
            break
        pipeline = _pipeline(site[3])
    if not pipeline:
        return None
    if err.code in CHANNEL_CODES:
        index = _setter(pipeline, 0)
        step = pipeline[index]
        c = step.shape[0]
        x = next((a for a in args if type(a) is Tensor), None)
        if c is None or x is None or x.shape is None or len(x.shape) < 3 or \
                tuple(x.shape[-3:]) != tuple(pipeline[-1].shape):
            return None             # the layer gets what the model made of the data
        related = [Related(step.loc, "%s channel%s from %s at line %d"
                           % (format_dim(c), " comes" if c == 1 else "s come", step.label,
                              step.loc.range.start_line))]
        fix = _grayscale_fix(err, layer, pipeline, index, src)
        return related, [fix] if fix is not None else []
    index = _setter(pipeline, 1, 2)
    step = pipeline[index]
    h, w = step.shape[1], step.shape[2]
    if h is None or w is None:
        return None
    what = "set by" if index > 0 else "come from"
    note = "" if index > 0 else " (no Resize after it)"
    return [Related(step.loc, "images of %s×%s %s %s at line %d%s"
                    % (format_dim(h), format_dim(w), what, step.label,
                       step.loc.range.start_line, note))], []


def _pipeline(values):
    for v in values:
        if type(v) is Tensor and v.pipeline and all(s.shape is not None for s in v.pipeline):
            return v.pipeline
        if type(v) in (TupleVal, ListVal):
            p = _pipeline(v.items)
            if p:
                return p
    return ()


def _setter(pipeline, *dims) -> int:
    """Index of the last step that changed the given dims of (C, H, W) (0: the source)."""
    index = 0
    before = pipeline[0].shape
    for i, step in enumerate(pipeline[1:], start=1):
        if any(step.shape[d] != before[d] for d in dims):
            index = i
        before = step.shape
    return index


def _grayscale_fix(err, layer, pipeline, index, src) -> Optional[Fix]:
    """Insert ``Grayscale(num_output_channels=N)`` before the step that made a PIL image a
    tensor, when that step set the channel count, every later step keeps it, and N (the
    layer's in_channels) is 1 or 3."""
    want = getattr(getattr(layer, "spec", None), "in_channels", None)
    if err.code != "conv-in-channels" or want not in (1, 3):
        return None
    c = pipeline[-1].shape[0]
    # The step that made the PIL image a tensor, after which the channel count stays.
    step = next((s for s in reversed(pipeline) if s.pil and
                 s.label.split("(")[0].endswith(TO_TENSOR)), None)
    if step is None or step.compose is None or step.index < 0 or any(
            s.shape[0] != c for s in pipeline[pipeline.index(step):]):
        return None
    elements = step.compose.elements
    if step.index >= len(elements) or elements[step.index].path is not None:
        return None
    prefix = step.label.split("(")[0].rsplit(".", 1)
    if len(prefix) != 2:
        return None
    at = elements[step.index].range
    text = "%s.Grayscale(num_output_channels=%d), " % (prefix[0], want)
    edit = TextEdit(Loc(Range(at.start_line, at.start_col, at.start_line, at.start_col)), text)
    return Fix("Insert %s.Grayscale(num_output_channels=%d) into the Compose" % (prefix[0], want),
               (edit,))


@dataclass(frozen=True)
class ResizeRequest:
    """A size error whose images came from a data pipeline straight into a model:
    ``args[index]`` of the call ``node`` of ``inst`` (in ``env``)."""

    key: tuple                  # (range, code) of the diagnostic
    inst: Any
    node: Any
    env: Any
    args: tuple
    index: int
    pipeline: tuple


def resize_request(err, key, call_sites) -> Optional[ResizeRequest]:
    """The model call that got the images of a size error, when a tensor made by a data
    pipeline (as the pipeline made it) is one of its arguments."""
    if err.code not in SPATIAL_CODES:
        return None
    for node, env, _, args, inst in reversed(call_sites):
        for index, x in enumerate(args):
            if type(x) is Tensor and x.pipeline and x.shape is not None and \
                    len(x.shape) >= 3 and all(s.shape is not None for s in x.pipeline) and \
                    tuple(x.shape[-3:]) == tuple(x.pipeline[-1].shape):
                return ResizeRequest(key, inst, node, env, args, index, x.pipeline)
    return None


def resize_edit(pipeline, size, names) -> Optional[Fix]:
    """Insert ``Resize(size)`` into the ``Compose`` that made the images: after the last step
    that set their size and before the step that made a PIL image a tensor when one follows
    (else right after the step that set the size, or first); when the Compose has a
    ``Resize`` there (the step that set the size, or one after it that kept it), replace it.  ``names`` are the module's
    globals: the Compose's prefix (``transforms.``, ``T.``, ``v2.``, none) must name the
    torchvision module of the same version, or ``Resize`` be imported under that name.  None
    when the Compose is not a literal list in this file, or a step after it changes the size."""
    composed = [s for s in pipeline if s.compose is not None and s.index >= 0]
    if not composed:
        return None
    compose = composed[-1].compose
    steps = [i for i, s in enumerate(pipeline) if s.compose is compose and s.index >= 0]
    last = steps[-1]
    if _setter(pipeline[last:], 1, 2) > 0:
        return None             # a step after the Compose sets the size again
    setter = _setter(pipeline, 1, 2)
    elements = compose.elements
    if len(elements) != len(compose.steps) or any(e.path is not None for e in elements):
        return None
    after = [i for i in steps if i > setter]
    to_tensor = next((i for i in after if pipeline[i].pil and
                      pipeline[i].label.split("(")[0].endswith(TO_TENSOR)), None)
    # The Compose's own Resize, the last step to set the size or one that kept it after.
    resize = [i for i in steps if i >= setter and
              pipeline[i].label.split("(")[0].endswith("Resize")]
    replaced = None
    if resize:
        replaced, position = pipeline[resize[-1]].label, pipeline[resize[-1]].index
    elif to_tensor is not None:
        before, position = True, pipeline[to_tensor].index
    elif setter in steps:
        before, position = False, pipeline[setter].index
    elif after:
        before, position = True, pipeline[after[0]].index
    else:
        return None
    prefix = compose.text.split("(")[0]
    if not prefix.endswith("Compose"):
        return None
    prefix = prefix[:-len("Compose")]
    module = "torchvision.transforms.v2" if compose.v2 else "torchvision.transforms"
    if _qualname(prefix + "Resize", names) != module + ".Resize":
        return None
    step = "%sResize((%d, %d))" % (prefix, size[0], size[1])
    at = elements[position].range
    if replaced is not None:    # the Compose's own Resize gets the size
        edit = TextEdit(Loc(at), step)
        return Fix("Replace %s with %s in the Compose" % (replaced, step), (edit,))
    if before:
        edit = TextEdit(Loc(Range(at.start_line, at.start_col, at.start_line, at.start_col)),
                        step + ", ")
    else:
        edit = TextEdit(Loc(Range(at.end_line, at.end_col, at.end_line, at.end_col)),
                        ", " + step)
    return Fix("Insert %s into the Compose" % step, (edit,))


def _qualname(dotted: str, names) -> Optional[str]:
    """What a dotted name of the module names in torch's world (``T.Resize`` with ``import
    torchvision.transforms as T``: ``torchvision.transforms.Resize``), or None."""
    head, _, rest = dotted.partition(".")
    value = names.get(head)
    if type(value) is not TorchRef:
        return None
    return value.qualname + ("." + rest if rest else "")


__all__ = ["explain", "resize_edit", "resize_request", "ResizeRequest"]
