"""These tests compare the data tables with real torchvision: they run in .venv-vision
(scripts/setup-vision.sh), where torchvision matches its torch.  Elsewhere (the main .venv has
no torchvision, or only its sources for the import tests) they are not collected."""
from __future__ import annotations

try:
    import PIL  # noqa: F401
    import torchvision.transforms  # noqa: F401
    USABLE = True
except Exception:           # missing, or built for another torch
    USABLE = False

collect_ignore_glob = [] if USABLE else ["test_*.py"]
