#!/usr/bin/env bash
# Bundles the language server into bundled/libs, where the extension runs it from: the shapelens
# package (from server/) and its pure-Python runtime dependencies (from pyproject.toml: pygls,
# lsprotocol and what they need), resolved for Python 3.10 so the .vsix runs on any Python 3.10+
# with nothing installed. torch is never bundled.
# Run by `npm run package` (package.json's vscode:prepublish), so every .vsix has it; needs a
# Python with pip ($PYTHON, default python3) and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export PIP_ROOT_USER_ACTION=ignore
log() { printf '[bundle-server] %s\n' "$*" >&2; }

log "bundling the server into bundled/libs"
rm -rf bundled/libs
mkdir -p bundled/libs
mapfile -t deps < <("$PY" - <<'PYEOF'
try:
    import tomllib
except ImportError:  # Python 3.10
    from pip._vendor import tomli as tomllib
with open("pyproject.toml", "rb") as f:
    for dep in tomllib.load(f)["project"]["dependencies"]:
        print(dep)
PYEOF
)
PIP=("$PY" -m pip install --quiet --disable-pip-version-check --no-compile --target bundled/libs)
pip_install() {  # pip, less the notes about index locations this machine's pip config names
  local out rc=0
  out=$("${PIP[@]}" "$@" 2>&1) || rc=$?
  [ -z "$out" ] || grep -v -E "^WARNING: Location .* is ignored" <<<"$out" >&2 || true
  return $rc
}
# shapelens itself, from the source tree (not editable: a real copy with its metadata).
pip_install --no-deps .
# Its dependencies as wheels for the oldest supported Python, so markers such as
# `python_version < "3.11"` (exceptiongroup, typing_extensions) are honoured; pure Python only.
pip_install --only-binary=:all: --python-version 3.10 --implementation py --abi none --platform any "${deps[@]}"
# pip evaluates markers for the running interpreter, not for --python-version: add what the
# bundled packages require on Python 3.10 that this interpreter did not need.
missing_on_310() {
  "$PY" - <<'PYEOF'
import pathlib
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name
env = {"python_version": "3.10", "python_full_version": "3.10.0", "extra": ""}
libs = pathlib.Path("bundled/libs")
dists = list(libs.glob("*.dist-info"))
have = {canonicalize_name(d.name.split("-")[0]) for d in dists}
for dist in dists:
    for line in (dist / "METADATA").read_text(encoding="utf-8").splitlines():
        if line.startswith("Requires-Dist:"):
            req = Requirement(line.split(":", 1)[1].strip())
            if (req.marker is None or req.marker.evaluate(env)) \
                    and canonicalize_name(req.name) not in have:
                print(str(req).split(";")[0].strip())
PYEOF
}
for _ in 1 2 3; do
  mapfile -t extra < <(missing_on_310)
  [ ${#extra[@]} -eq 0 ] && break
  pip_install --no-deps --only-binary=:all: --python-version 3.10 --implementation py --abi none --platform any "${extra[@]}"
done
rm -rf bundled/libs/bin bundled/libs/*.dist-info/direct_url.json
find bundled/libs -name __pycache__ -type d -prune -exec rm -rf {} +
if [ -e bundled/libs/torch ]; then log "torch ended up in bundled/libs"; exit 1; fi
# The bundle must import on its own: no site-packages (-S), only bundled/libs.
PYTHONPATH=bundled/libs "$PY" -S -c "import shapelens.server.server, pygls, lsprotocol, jedi, parso, pathspec" \
  || { log "bundled/libs does not import without site-packages"; exit 1; }
log "bundled/libs ready ($(find bundled/libs -name '*.py' | wc -l) Python files)"
