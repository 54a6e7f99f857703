"""Every transform rule of rules/transforms.py against real torchvision (v1 and v2), on random
configurations and image sizes: where the rule gives a shape it is torchvision's, where it
reports an error torchvision raises, and on the inputs it documents it always knows.
Runs in .venv-vision (scripts/setup-vision.sh); the main suite skips it."""
from __future__ import annotations

import warnings



import torch  # noqa: E402
from hypothesis import given, strategies as st  # noqa: E402
from torchvision import transforms as v1  # noqa: E402
from torchvision.transforms import v2  # noqa: E402

from tests.data.vision.helpers import compare  # noqa: E402

warnings.filterwarnings("ignore")
MODES = ["L", "RGB", "RGBA", "1", "P", "I", "F", "LA", "CMYK", "YCbCr"]
side = st.integers(1, 40)
pil = st.builds(lambda m, w, h: dict(kind="pil", mode=m, size=(w, h)), st.sampled_from(MODES),
                side, side)
rgb_or_l = st.builds(lambda m, w, h: dict(kind="pil", mode=m, size=(w, h)),
                     st.sampled_from(["L", "RGB"]), side, side)
tensor = st.builds(lambda lead, c, h, w, dt: dict(kind="tensor", shape=tuple(lead) + (c, h, w),
                                                  dtype=dt),
                   st.lists(st.integers(1, 3), max_size=1), st.integers(1, 5), side, side,
                   st.sampled_from(["float", "float", "uint8"]))
array = st.builds(lambda h, w, c, dt: dict(kind="array", shape=(h, w) if c == 0 else (h, w, c),
                                           dtype=dt),
                  side, side, st.integers(0, 5), st.sampled_from(["uint8", "float32"]))
image = st.one_of(pil, tensor)
version = st.sampled_from([v1, v2])
size = st.one_of(st.integers(1, 48), st.tuples(st.integers(1, 48), st.integers(1, 48)),
                 st.lists(st.integers(1, 48), min_size=1, max_size=1))


@given(st.one_of(pil, array, tensor), version)
def test_to_tensor(img, module):
    known = img["kind"] == "pil" or (img["kind"] == "array" and img["dtype"] == "uint8")
    compare(module, "ToTensor", (), {}, img, must_know=known and img.get("mode") != "I")


@given(st.one_of(pil, tensor), version)
def test_pil_to_tensor(img, module):
    compare(module, "PILToTensor", (), {}, img, must_know=img["kind"] == "pil")


@given(st.one_of(pil, array, tensor))
def test_to_image(img):
    compare(v2, "ToImage", (), {}, img, must_know=img["kind"] != "array" or True)


@given(tensor, st.sampled_from([torch.float32, torch.float64, torch.uint8]))
def test_to_dtype(img, dtype):
    compare(v2, "ToDtype", (dtype,), {"scale": True}, img, must_know=True)
    compare(v1, "ConvertImageDtype", (dtype,), {}, img, must_know=True)


@given(image, version, size, st.one_of(st.none(), st.integers(1, 80)))
def test_resize(img, module, size, max_size):
    kwargs = {"max_size": max_size} if max_size is not None else {}
    compare(module, "Resize", (size,), kwargs, img, must_know=not isinstance(size, tuple) or
            max_size is None)


@given(image, version, size, st.sampled_from(["CenterCrop", "RandomResizedCrop"]))
def test_fixed_size_crops(img, module, size, kind):
    compare(module, kind, (size,), {}, img, must_know=True)


@given(image, version, size, st.sampled_from(["FiveCrop", "TenCrop"]))
def test_multi_crops(img, module, size, kind):
    compare(module, kind, (size,), {}, img, must_know=True)


padding = st.one_of(st.integers(0, 12), st.tuples(st.integers(0, 12), st.integers(0, 12)),
                    st.tuples(*[st.integers(0, 12)] * 4), st.lists(st.integers(0, 12),
                                                                   min_size=1, max_size=1))
modes = st.sampled_from(["constant", "edge", "reflect", "symmetric"])


@given(st.one_of(rgb_or_l, tensor), version, padding, modes)
def test_pad(img, module, pad, mode):
    compare(module, "Pad", (pad,), {"padding_mode": mode}, img,
            must_know=mode in ("constant", "edge"))


@given(st.one_of(rgb_or_l, tensor), version, size, st.one_of(st.none(), padding),
       st.booleans(), modes)
def test_random_crop(img, module, size, pad, pad_if_needed, mode):
    compare(module, "RandomCrop", (size,), {"padding": pad, "pad_if_needed": pad_if_needed,
                                            "padding_mode": mode}, img)


@given(st.one_of(pil, tensor), version, st.sampled_from([1, 3]))
def test_grayscale(img, module, n):
    compare(module, "Grayscale", (n,), {}, img,
            must_know=img["kind"] == "pil" or img["shape"][-3] in (1, 3))


@given(st.one_of(rgb_or_l, tensor), version)
def test_random_grayscale(img, module):
    compare(module, "RandomGrayscale", (), {"p": 1.0}, img)


@given(st.builds(lambda lead, c, h, w, dt: dict(kind="tensor", shape=tuple(lead) + (c, h, w)
                                                if c else (h, w), dtype=dt),
                 st.lists(st.integers(1, 3), max_size=1), st.integers(0, 4), side, side,
                 st.sampled_from(["float", "float", "float", "uint8"])),
       version, st.integers(1, 4), st.integers(1, 4))
def test_normalize(img, module, n_mean, n_std):
    mean = tuple([0.5] * n_mean)
    std = tuple([0.25] * n_std)
    compare(module, "Normalize", (mean, std), {}, img, must_know=img["dtype"] == "float")


@given(st.one_of(st.builds(lambda shape, dt: dict(kind="tensor", shape=shape, dtype=dt),
                           st.lists(st.integers(1, 7), min_size=1, max_size=4).map(tuple),
                           st.sampled_from(["float", "uint8"])), array), version)
def test_to_pil_image(img, module):
    compare(module, "ToPILImage", (), {}, img)


KEEP = [("RandomHorizontalFlip", (), {"p": 1.0}), ("RandomVerticalFlip", (), {"p": 1.0}),
        ("RandomAffine", (15,), {}), ("RandomPerspective", (), {"p": 1.0}),
        ("RandomRotation", (30,), {}), ("RandomRotation", (30,), {"expand": True}),
        ("ColorJitter", (0.4, 0.4, 0.4, 0.1), {}), ("RandomInvert", (), {"p": 1.0}),
        ("RandomAutocontrast", (), {"p": 1.0}), ("RandomSolarize", (0.5,), {"p": 1.0}),
        ("RandomAdjustSharpness", (2,), {"p": 1.0}), ("RandomEqualize", (), {"p": 1.0}),
        ("RandomPosterize", (4,), {"p": 1.0}), ("GaussianBlur", (3,), {}),
        ("RandomErasing", (), {"p": 1.0}), ("TrivialAugmentWide", (), {})]


@given(st.one_of(pil, tensor), version, st.sampled_from(KEEP))
def test_shape_keeping(img, module, case):
    kind, args, kwargs = case
    compare(module, kind, args, kwargs, img)


FUNCTIONAL_CASES = [("resize", "Resize", (20,)), ("resize", "Resize", ((12, 30),)),
                    ("center_crop", "CenterCrop", (16,)), ("pad", "Pad", ((1, 2),)),
                    ("to_grayscale", "Grayscale", (3,)), ("hflip", "RandomHorizontalFlip", ()),
                    ("five_crop", "FiveCrop", (8,))]


@given(rgb_or_l, st.sampled_from(FUNCTIONAL_CASES))
def test_functional_forms_match_their_transform(img, case):
    """The analysis applies a transform's rule to ``functional.<name>(img, *args)`` (FUNCTIONAL
    in rules/transforms.py): torchvision's functional form gives what its class gives."""
    from shapelens.analysis.rules.transforms import FUNCTIONAL
    from tests.data.vision.helpers import described, real_image
    name, kind, args = case
    assert FUNCTIONAL[name] == kind
    image = real_image(**img)
    kwargs = {"p": 1.0} if kind == "RandomHorizontalFlip" else {}
    try:
        by_class = described(getattr(v1, kind)(*args, **kwargs)(image))
    except Exception as exc:
        by_class = type(exc).__name__
    try:
        by_function = described(getattr(v1.functional, name)(image, *args))
    except Exception as exc:
        by_function = type(exc).__name__
    assert by_function == by_class
