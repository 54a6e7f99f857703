#!/usr/bin/env bash
# Creates .venv (if missing) and installs ShapeLens with its test dependencies into it.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
# pip's own "already satisfied" path is fast; torch==2.13.0 resolves to the CPU wheel here.
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]' 2>&1 \
  | grep -v -E "^WARNING: Location .* is ignored" || true
# torchvision's model code, as source for the import tests (tests/imports): unpacked without its
# dependencies beside .venv, not into it (its torch differs from the one above: it is read,
# never imported; .venv-vision, scripts/setup-vision.sh, is where it runs).
if [ ! -f .venv/torchvision-src/torchvision/models/resnet.py ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps \
    --target .venv/torchvision-src torchvision==0.29.1 2>&1 \
    | grep -v -E "^WARNING: Location .* is ignored" || true
fi
# Bytecode for the package, written even where PYTHONDONTWRITEBYTECODE is set: without it
# every server start compiles the package again (about 0.2 s of CPU before first diagnostics).
.venv/bin/python -m compileall -q server/shapelens > /dev/null
.venv/bin/python -c "import shapelens, pygls, torch, hypothesis, jedi"
