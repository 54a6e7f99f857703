"""torchvision transforms (v1 ``torchvision.transforms`` and v2 ``torchvision.transforms.v2``)
as data: what each does to the shape of the image it is given.

An image is a PIL :class:`~..values.Image` (mode, width, height), a :class:`~..values.Tensor`
``[..., C, H, W]`` or a numpy :class:`~..values.Array` ``(H, W, C)``.  Each transform is a
:class:`TransformRule` registered under its class name with ``@transform("Resize")``: ``build``
reads the constructor call into a spec, ``apply`` maps an image to the image it returns, a
``ShapeError`` where torchvision raises, or None where the analysis cannot tell.  The structural
ones (Compose, Lambda, RandomApply...) are followed by the interpreter (interp/data.py).

Every rule is compared with real torchvision on random configurations and image sizes in
tests/data/vision/test_transforms_vs_torchvision.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

from .. import dims as D
from ..errors import ShapeError, error
from ..values import Array, Image, Tensor, TupleVal
from ..widths import numpy_array
from .call import MISSING, UNKNOWN, Call, as_int

# len(Image.new(mode, ...).getbands()) for the modes PIL has.
MODE_CHANNELS = {"1": 1, "L": 1, "P": 1, "I": 1, "F": 1, "I;16": 1, "I;16B": 1, "I;16L": 1,
                 "I;16N": 1, "LA": 2, "La": 2, "PA": 2, "RGB": 3, "YCbCr": 3, "LAB": 3,
                 "HSV": 3, "RGBA": 4, "RGBa": 4, "CMYK": 4, "RGBX": 4}
# Modes whose pixels are bytes (ToTensor scales them to float).
BYTE_MODES = {"1", "L", "P", "LA", "La", "PA", "RGB", "YCbCr", "LAB", "HSV", "RGBA", "RGBa",
              "CMYK", "RGBX"}
# ToPILImage's mode for a uint8 / float image of 1-4 channels.
CHANNEL_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}

TRANSFORMS: Dict[str, "TransformRule"] = {}
# Transforms that hold other transforms or a function: the interpreter follows them.
STRUCTURAL = {"Compose", "Lambda", "RandomApply", "RandomChoice", "RandomOrder"}


# torchvision.transforms[.v2].functional: the same rules, the image first, then the
# transform's own arguments in its order.
FUNCTIONAL = {"to_tensor": "ToTensor", "pil_to_tensor": "PILToTensor", "to_image": "ToImage",
              "resize": "Resize", "center_crop": "CenterCrop", "pad": "Pad",
              "normalize": "Normalize", "to_grayscale": "Grayscale",
              "rgb_to_grayscale": "Grayscale", "to_pil_image": "ToPILImage",
              "hflip": "RandomHorizontalFlip", "vflip": "RandomVerticalFlip",
              "five_crop": "FiveCrop", "ten_crop": "TenCrop"}


def transform(*kinds: str, v1: bool = True, v2: bool = True):
    """Class decorator: register a TransformRule under torchvision class names."""
    def register(cls):
        for kind in kinds:
            TRANSFORMS[kind] = cls(kind, v1, v2)
        return cls
    return register


def rule_for(qualname: str):
    """(rule, is_v2) for ``torchvision.transforms[.v2].Kind``, or (None, False)."""
    for prefix, v2 in (("torchvision.transforms.v2.", True), ("torchvision.transforms.", False)):
        if qualname.startswith(prefix):
            kind = qualname[len(prefix):]
            if kind.startswith("functional."):
                kind = FUNCTIONAL.get(kind[len("functional."):], "")
            rule = TRANSFORMS.get(kind)
            if rule is not None and (rule.v2 if v2 else rule.v1):
                return rule, v2
            return None, v2
    return None, False


# --------------------------------------------------------------------------- images

@dataclass(frozen=True)
class View:
    """An image as the rules see it: ``kind`` "pil", "tensor" or "array"; ``lead`` the leading
    dims of a tensor before C, H, W."""

    kind: str
    c: Any
    h: Any
    w: Any
    mode: Optional[str] = None
    dtype: Optional[str] = None
    lead: tuple = ()


def view(x) -> Optional[View]:
    """The image view of a value, or None when it is not an image the rules know."""
    kind = type(x)
    if kind is Image:
        return View("pil", MODE_CHANNELS.get(x.mode) if x.mode else None, x.height, x.width,
                    x.mode)
    if kind is Tensor and x.shape is not None and len(x.shape) >= 3:
        s = x.shape
        return View("tensor", s[-3], s[-2], s[-1], None, x.dtype, tuple(s[:-3]))
    if kind is Array and x.shape is not None and len(x.shape) in (2, 3):
        s = x.shape
        return View("array", s[2] if len(s) == 3 else 1, s[0], s[1], None, x.dtype)
    return None


def make(v: View, c=MISSING, h=MISSING, w=MISSING, mode=MISSING, like=None, dtype=MISSING):
    """The value of ``v``'s kind with some fields replaced (``like``: the input value, whose
    pipeline is kept)."""
    c = v.c if c is MISSING else c
    h = v.h if h is MISSING else h
    w = v.w if w is MISSING else w
    pipeline = getattr(like, "pipeline", ())
    if v.kind == "pil":
        return Image(v.mode if mode is MISSING else mode, w, h, pipeline)
    if v.kind == "tensor":
        return Tensor(v.lead + (c, h, w), v.dtype if dtype is MISSING else dtype,
                      pipeline=pipeline)
    return None


def _pair(value) -> Optional[Tuple[Any, Any]]:
    """A size argument as (h, w): an int (or a 1-sequence) is square; None when unknown."""
    if value is MISSING or value is UNKNOWN or value is None:
        return None
    d = as_int(value)
    if d is not None:
        return (d, d)
    items = getattr(value, "items", None)
    if isinstance(items, (list, tuple)):
        dims = tuple(as_int(i) for i in items)
        if any(d is None for d in dims):
            return None
        if len(dims) == 1:
            return (dims[0], dims[0])
        if len(dims) == 2:
            return dims
    return None


def _lt(a, b) -> Optional[bool]:
    """a < b when known (ints), else None."""
    if type(a) is int and type(b) is int:
        return a < b
    if a is not None and b is not None and a == b:
        return False
    return None


def fmt_hw(h, w) -> str:
    return "(%s, %s)" % (D.format_dim(h), D.format_dim(w))


class TransformRule:
    """One transform family."""

    def __init__(self, kind: str, v1: bool, v2: bool):
        self.kind = kind
        self.v1 = v1
        self.v2 = v2

    def build(self, call: Call):
        """Constructor call -> spec (any value), or None when its config is not known."""
        return ()

    def apply(self, spec, x, v2: bool):
        """Image -> image (or a tuple of images), a ShapeError, or None (unknown)."""
        raise NotImplementedError


# --------------------------------------------------------------------------- conversions

@transform("ToTensor")
class ToTensor(TransformRule):
    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "tensor":
            return None                       # TypeError: pic should be PIL Image or ndarray
        if v.kind == "pil":
            dtype = "float" if v.mode in BYTE_MODES else ("float" if v.mode == "F" else None)
            return Tensor((v.c, v.h, v.w), dtype, pipeline=x.pipeline)
        dtype = "float" if v.dtype in ("uint8", "float32", "float64", "float16") else None
        numpy_array(v.dtype)            # a float64 array stays float64
        return Tensor((v.c, v.h, v.w), dtype, pipeline=x.pipeline)


@transform("PILToTensor")
class PILToTensor(TransformRule):
    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind != "pil":
            return None
        return Tensor((v.c, v.h, v.w), "uint8" if v.mode in BYTE_MODES else None,
                      pipeline=x.pipeline)


@transform("ToImage", v1=False)
class ToImage(TransformRule):
    def apply(self, spec, x, v2):
        if type(x) is Tensor and x.shape is not None and len(x.shape) == 2:
            return Tensor((1,) + tuple(x.shape), x.dtype, pipeline=x.pipeline)
        v = view(x)
        if v is None:
            return None
        if v.kind == "tensor":
            return x
        dtype = ("uint8" if v.mode in BYTE_MODES else None) if v.kind == "pil" else v.dtype
        if dtype == "float32":
            dtype = "float"
        return Tensor((v.c, v.h, v.w), dtype, pipeline=x.pipeline)


@transform("ToDtype", "ConvertImageDtype", "ToPureTensor")
class ToDtype(TransformRule):
    def build(self, call):
        name = getattr(call.get(0, "dtype"), "qualname", "").rsplit(".", 1)[-1]
        if name.startswith(("float", "half", "double", "bfloat")):
            return ("float",)
        return ("uint8",) if name == "uint8" else (None,)

    def apply(self, spec, x, v2):
        if type(x) is not Tensor:
            return None
        return Tensor(x.shape, spec[0], pipeline=x.pipeline)


@transform("ToPILImage")
class ToPILImage(TransformRule):
    def build(self, call):
        mode = call.value(0, "mode")
        return (mode,) if mode is None or isinstance(mode, str) else None

    def apply(self, spec, x, v2):
        mode = spec[0]
        if type(x) is Tensor and x.shape is not None:
            shape = x.shape
            if len(shape) not in (2, 3):
                return error("rank-mismatch", "pic should be 2/3 dimensional. Got %d "
                             "dimensions. ToPILImage takes one image [C, H, W] or [H, W]."
                             % len(shape))
            c, h, w = (1,) + tuple(shape) if len(shape) == 2 else shape
            if type(c) is int and c > 4:
                return error("shape-mismatch", "pic should not have > 4 channels. Got %d "
                             "channels. ToPILImage takes channels first [C, H, W]; a "
                             "channels-last image needs .permute(2, 0, 1) first." % c)
            if mode is not None or x.dtype not in ("float", "uint8") or type(c) is not int:
                return None
            return Image(CHANNEL_MODES[c], w, h, x.pipeline)
        if type(x) is Array and x.shape is not None and len(x.shape) in (2, 3):
            h, w = x.shape[:2]
            c = x.shape[2] if len(x.shape) == 3 else 1
            if type(c) is int and c > 4:
                return error("shape-mismatch", "pic should not have > 4 channels. Got %d "
                             "channels." % c)
            if mode is not None or x.dtype != "uint8" or type(c) is not int:
                return None
            return Image(CHANNEL_MODES[c], w, h, x.pipeline)
        if type(x) is Image:
            return x if mode is None else None
        return None


# --------------------------------------------------------------------------- geometry

def resized_size(h, w, size, max_size):
    """torchvision's ``_compute_resized_output_size`` for a one-number size (the shorter
    side); None for symbolic sizes (the aspect ratio is not known) or a ShapeError."""
    if max_size is not None and type(max_size) is int and type(size) is int and \
            max_size <= size:
        return error("shape-mismatch", "max_size = %d must be strictly greater than the "
                     "requested size for the smaller edge size = %d" % (max_size, size))
    if h is not None and h == w:
        if max_size is None:
            return (size, size)
        if type(size) is int and type(max_size) is int:
            return (size, size) if size <= max_size else (max_size, max_size)
    if type(h) is not int or type(w) is not int or type(size) is not int:
        return None
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    if max_size is not None:
        if type(max_size) is not int:
            return None
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return (new_h, new_w)


@transform("Resize")
class Resize(TransformRule):
    def build(self, call):
        size = call.get(0, "size")
        max_size = call.get(2, "max_size")
        max_size = None if max_size is MISSING else as_int(max_size)
        if max_size is None and call.has(2, "max_size") and \
                call.value(2, "max_size") is not None:
            return None
        one = as_int(size) if size is not MISSING else None
        if one is None and getattr(size, "items", None) is not None and len(size.items) == 1:
            one = as_int(size.items[0])
        if one is not None:
            return ("short", one, max_size)
        pair = _pair(size)
        if max_size is not None:
            return None             # torchvision rejects max_size with an exact size
        return ("exact", pair, None) if pair is not None else None

    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        how, size, max_size = spec
        if how == "exact":
            return make(v, h=size[0], w=size[1], like=x)
        hw = resized_size(v.h, v.w, size, max_size)
        if isinstance(hw, ShapeError):
            return hw
        if hw is None:
            return make(v, h=None, w=None, like=x)
        return make(v, h=hw[0], w=hw[1], like=x)


def _crop_size(call, index=0, name="size"):
    pair = _pair(call.get(index, name))
    if pair is None or any(type(d) is int and d <= 0 for d in pair):
        return None
    return pair


@transform("CenterCrop", "RandomResizedCrop")
class Crop(TransformRule):
    """Always the requested size (CenterCrop pads an image smaller than it)."""

    def build(self, call):
        return _crop_size(call)

    def apply(self, size, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        return make(v, h=size[0], w=size[1], like=x)


def _padding(value):
    """(left, top, right, bottom) from Pad's ``padding``; None when not known or invalid."""
    if value is MISSING or value is None:
        return None
    d = as_int(value)
    if d is not None:
        return (d, d, d, d)
    items = getattr(value, "items", None)
    if not isinstance(items, (list, tuple)):
        return None
    p = tuple(as_int(i) for i in items)
    if any(type(i) is not int for i in p):
        return None
    if len(p) == 1:
        return p * 4
    if len(p) == 2:
        return (p[0], p[1], p[0], p[1])
    if len(p) == 4:
        return p
    return None


def pad_image(v: View, pad, mode: str):
    """(h, w) after padding, or None when torch/PIL's behaviour is not certain."""
    left, top, right, bottom = pad
    if min(pad) < 0:
        return None
    if mode in ("reflect", "symmetric") and v.kind == "tensor":
        limit_ok = _lt(max(left, right), v.w if mode == "reflect" else D.add(v.w, 1)) and \
            _lt(max(top, bottom), v.h if mode == "reflect" else D.add(v.h, 1))
        if not limit_ok:
            return None
    return (D.add(v.h, top + bottom), D.add(v.w, left + right))


@transform("Pad")
class Pad(TransformRule):
    def build(self, call):
        pad = _padding(call.get(0, "padding"))
        mode = call.value(2, "padding_mode", "constant")
        if pad is None or mode not in ("constant", "edge", "reflect", "symmetric"):
            return None
        return (pad, mode)

    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        hw = pad_image(v, *spec)
        return make(v, h=hw[0], w=hw[1], like=x) if hw is not None else None


@transform("RandomCrop")
class RandomCrop(TransformRule):
    def build(self, call):
        size = _crop_size(call)
        padding = call.get(1, "padding")
        pad = None if padding is MISSING or as_python_none(padding) else _padding(padding)
        if size is None or (pad is None and not (padding is MISSING or as_python_none(padding))):
            return None
        pad_if_needed = call.value(2, "pad_if_needed", False)
        mode = call.value(4, "padding_mode", "constant")
        if pad_if_needed not in (True, False) or mode not in ("constant", "edge", "reflect",
                                                              "symmetric"):
            return None
        return (size, pad, pad_if_needed, mode)

    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        (th, tw), pad, pad_if_needed, mode = spec
        h, w = v.h, v.w
        if pad is not None:
            hw = pad_image(v, pad, mode)
            if hw is None:
                return None
            h, w = hw
        if pad_if_needed:
            if _lt(w, tw) is None or _lt(h, th) is None:
                return make(v, h=th, w=tw, like=x) if mode == "constant" else None
            if mode != "constant" and (_lt(w, tw) or _lt(h, th)):
                return None
            if _lt(w, tw):
                w = tw
            if _lt(h, th):
                h = th
        if _lt(h, th) or _lt(w, tw):
            return error("shape-mismatch", "Required crop size %s is larger than input image "
                         "size %s. Resize the image first, or pass pad_if_needed=True."
                         % (fmt_hw(th, tw), fmt_hw(h, w)))
        return make(v, h=th, w=tw, like=x)


def as_python_none(value) -> bool:
    return getattr(value, "value", 0) is None and type(value).__name__ == "Const"


@transform("FiveCrop", "TenCrop")
class MultiCrop(TransformRule):
    def build(self, call):
        return _crop_size(call)

    def apply(self, size, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        th, tw = size
        if _lt(v.h, th) or _lt(v.w, tw):
            return error("shape-mismatch", "Requested crop size %s is bigger than input size "
                         "%s" % (fmt_hw(th, tw), fmt_hw(v.h, v.w)))
        crop = make(v, h=th, w=tw, like=x)
        return TupleVal((crop,) * (5 if self.kind == "FiveCrop" else 10))


@transform("RandomHorizontalFlip", "RandomVerticalFlip", "RandomAffine",
           "RandomPerspective", "ElasticTransform")
class KeepsShape(TransformRule):
    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        if self.kind == "RandomPerspective" and not (_lt(1, v.h) and _lt(1, v.w)):
            return None             # a 1-pixel side has no perspective to solve for
        return x


@transform("RandomRotation")
class RandomRotation(TransformRule):
    def build(self, call):
        expand = call.value(2, "expand", False)
        return expand if expand in (True, False) else None

    def apply(self, expand, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        return make(v, h=None, w=None, like=x) if expand else x


@transform("ColorJitter", "RandomInvert", "RandomAutocontrast", "RandomAdjustSharpness",
           "RandomSolarize", "RandomPosterize", "RandomEqualize", "GaussianBlur", "RandAugment",
           "TrivialAugmentWide", "AutoAugment", "AugMix", "RandomErasing")
class Colour(TransformRule):
    """Colour and intensity changes keep the shape where torchvision accepts the image (an L
    or RGB PIL image; a float tensor of 1 or 3 channels, uint8 for some); elsewhere unknown."""

    FLOAT_OK = {"ColorJitter", "RandomInvert", "RandomAutocontrast", "RandomAdjustSharpness",
                "RandomSolarize", "GaussianBlur", "RandomErasing"}

    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        if v.kind == "pil":
            return x if v.mode in ("L", "RGB") and self.kind != "RandomErasing" else None
        if self.kind not in self.FLOAT_OK or v.dtype != "float" or v.c not in (1, 3):
            return None
        if self.kind == "GaussianBlur":
            return None                       # a kernel larger than the image fails
        return x


@transform("Grayscale")
class Grayscale(TransformRule):
    def build(self, call):
        n = call.int(0, "num_output_channels", 1)
        return n if n in (1, 3) else None

    def apply(self, n, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        if v.kind == "pil":
            return make(v, mode="L" if n == 1 else "RGB", like=x)
        if v.c == 3 or (v.c == 1 and (n == 1 or not v2)):
            # v1 returns a 1-channel tensor as it is (its expand keeps 1 channel).
            return make(v, c=n if v.c == 3 or v2 else 1, like=x)
        if v.c == 1 and v2:
            return make(v, c=n, like=x)
        if type(v.c) is int:
            return error("shape-mismatch", "Input image tensor permitted channel values are "
                         "[1, 3], but found %d. Grayscale takes a 1- or 3-channel image." % v.c)
        return None


@transform("RandomGrayscale")
class RandomGrayscale(TransformRule):
    def apply(self, spec, x, v2):
        v = view(x)
        if v is None or v.kind == "array":
            return None
        if v.kind == "pil":
            return x if v.mode in ("L", "RGB") else None
        return x if v.c in (1, 3) and v.dtype == "float" else None


# --------------------------------------------------------------------------- Normalize

def _channels_arg(value):
    """Number of values in mean/std (a sequence or a number), or None."""
    if value is MISSING:
        return None
    if as_int(value) is not None or type(getattr(value, "value", None)) is float:
        return 1
    items = getattr(value, "items", None)
    return len(items) if isinstance(items, (list, tuple)) else None


@transform("Normalize")
class Normalize(TransformRule):
    def build(self, call):
        m, s = _channels_arg(call.get(0, "mean")), _channels_arg(call.get(1, "std"))
        if m is None or s is None:
            return None
        inplace = call.value(2, "inplace", False)
        return (m, s) if inplace in (True, False) else None

    def apply(self, spec, x, v2):
        if type(x) is not Tensor or x.shape is None:
            return None
        shape = x.shape
        if len(shape) < 3:
            return error("rank-mismatch", "Expected tensor to be a tensor image of size (..., "
                         "C, H, W). Got tensor.size() = torch.Size([%s]). Normalize takes a "
                         "tensor with a channel dim." % ", ".join(D.format_dim(d)
                                                                   for d in shape))
        if x.dtype != "float":
            return None                       # integer tensors are a TypeError
        c = shape[-3]
        index = len(shape) - 3
        mean, std = spec
        if not v2:
            for what, n in (("mean", mean), ("std", std)):
                err = _inplace_channels(shape, c, n, index, what)
                if err is not None:
                    return err
            return x
        # v2 subtracts out of place (a 1-channel image broadcasts), then divides in place.
        if n_fits(c, mean) is None:
            return None
        if not n_fits(c, mean):
            if c != 1:
                return _size_error(c, mean, index, "mean")
            c = mean
        out = shape[:-3] + (c,) + shape[-2:]
        err = _inplace_channels(out, c, std, index, "std")
        if err is not None:
            return err
        return Tensor(out, x.dtype, pipeline=x.pipeline)


def n_fits(c, n) -> Optional[bool]:
    if n == 1 or c == n:
        return True
    if type(c) is not int:
        return None
    return False


def _inplace_channels(shape, c, n, index, what):
    fits = n_fits(c, n)
    if fits is not False:
        return None
    if c == 1:
        wider = shape[:-3] + (n,) + shape[-2:]
        return error("shape-mismatch", "output with shape %s doesn't match the broadcast shape "
                     "%s. Normalize's %s has %d values but the image has 1 channel: give one "
                     "value per channel, or make the image %d channels."
                     % (_fmt(shape), _fmt(wider), what, n, n))
    return _size_error(c, n, index, what)


def _size_error(c, n, index, what):
    return error("shape-mismatch", "The size of tensor a (%s) must match the size of tensor b "
                 "(%d) at non-singleton dimension %d. Normalize's %s has %d values but the "
                 "image has %s channels: give one value per channel."
                 % (D.format_dim(c), n, index, what, n, D.format_dim(c)))


def _fmt(shape) -> str:
    return "[" + ", ".join(D.format_dim(d) for d in shape) + "]"


__all__ = ["TRANSFORMS", "STRUCTURAL", "TransformRule", "View", "view", "rule_for",
           "MODE_CHANNELS", "resized_size"]
