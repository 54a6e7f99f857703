"""Builds every model of torchvision's zoo that takes an image or a clip (classification,
segmentation, video; no detection, optical flow or quantized models) and runs it once on the
input the test gives it, on the meta device (CPU where the builder reads tensor values, as
RegNet's does), and prints, as JSON, the output's shape or the error torch raised.  In
.venv-vision (torch with torchvision); used by test_torchvision_zoo.py, not a test itself."""
import json
import warnings

import torch
from torchvision.models import get_model_builder, list_models

# Too large to build on CPU in a test (RegNet's builder reads tensor values, so it cannot run
# on the meta device), and ViT-H/14, whose default input is 518 x 518.
LEFT_OUT = {"regnet_y_128gf", "regnet_y_32gf", "regnet_x_32gf", "regnet_y_16gf",
            "regnet_x_16gf", "vit_h_14"}


def cases():
    out = []
    for name in list_models():
        module = get_model_builder(name).__module__
        if name in LEFT_OUT or any(f in module for f in ("quantization", "detection",
                                                           "optical_flow")):
            continue
        kwargs = {}
        if "video" in module:
            shape = [1, 3, 16, 224, 224] if name.startswith(("mvit", "s3d")) else \
                [1, 3, 8, 112, 112]
        elif "segmentation" in module:
            shape, kwargs = [1, 3, 224, 224], {"weights_backbone": None}   # no download
        elif name == "inception_v3":
            shape = [2, 3, 299, 299]
        else:
            shape = [2, 3, 224, 224]
        out.append({"name": name, "module": module, "kwargs": kwargs, "input": shape,
                    "segmentation": "segmentation" in module})
    return out


def run(case):
    def once():
        model = get_model_builder(case["name"])(**case["kwargs"])
        model.eval()
        y = model(torch.randn(*case["input"]))
        return y["out"] if case["segmentation"] else y
    try:
        try:
            with torch.device("meta"):
                y = once()
        except NotImplementedError as exc:
            if "meta" not in str(exc):
                raise
            y = once()
        return {"shape": list(y.shape), "error": None}
    except Exception as exc:     # noqa: BLE001  (what torch raises is the answer)
        return {"shape": None, "error": "%s: %s" % (type(exc).__name__, exc)}


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    with torch.no_grad():
        print(json.dumps([dict(case, **run(case)) for case in cases()]))
