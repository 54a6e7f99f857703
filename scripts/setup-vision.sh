#!/usr/bin/env bash
# Creates .venv-vision (if missing): the environment of the data-pipeline rule tests, which
# compare ShapeLens's torchvision/PIL/numpy tables with the real libraries (tests/data/vision/).
# torchvision pins its own torch, so it lives apart from .venv.  Idempotent: a second run only
# checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv-vision/bin/python ]; then
  "$PY" -m venv .venv-vision
fi
if ! .venv-vision/bin/python -c "import shapelens, torchvision, PIL, numpy, hypothesis, pytest" \
    2>/dev/null; then
  .venv-vision/bin/python -m pip install -q --disable-pip-version-check \
    torch==2.14.1 torchvision==0.29.1 pillow numpy 'hypothesis>=6.100' 'pytest>=8' \
    'pytest-xdist>=3.5' 2>&1 | grep -v -E "^WARNING: Location .* is ignored" || true
  .venv-vision/bin/python -m pip install -q --disable-pip-version-check -e . 2>&1 \
    | grep -v -E "^WARNING: Location .* is ignored" || true
fi
.venv-vision/bin/python -c "import shapelens, torchvision, PIL, numpy, hypothesis, pytest"
