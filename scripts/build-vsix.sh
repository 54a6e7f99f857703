#!/usr/bin/env bash
# Builds the ShapeLens extension package: build/shapelens-<version>.vsix, the way a contributor
# does (`npm run package`, plain vsce), then checks what went into it.
#   1. the client is type-checked (tsc, strict);
#   2. `npm run package`: its vscode:prepublish bundles the client with esbuild into
#      dist/extension.js and the server with its dependencies into bundled/libs
#      (scripts/bundle-server.sh), then vsce packs the .vsix;
#   3. the .vsix must hold the bundled server and nothing that should not ship.
# Needs node_modules (scripts/setup-editors.sh, or npm ci) and PyPI (for bundled/libs).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { printf '[build-vsix] %s\n' "$*" >&2; }

LOCK_STAMP=node_modules/.shapelens-lock.sha256
if [ ! -f "$LOCK_STAMP" ] || [ "$(cat "$LOCK_STAMP")" != "$(sha256sum package-lock.json | cut -d' ' -f1)" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json | cut -d' ' -f1 > "$LOCK_STAMP"
fi

# --- 1. the client type-checks -------------------------------------------------------------------
log "type-checking the client"
npx --no-install tsc --noEmit -p client
npx --no-install tsc -p client/webview

# --- 2. npm run package ------------------------------------------------------------------------
version=$(node -p 'require("./package.json").version')
vsix=build/shapelens-$version.vsix
log "packaging $vsix with npm run package"
mkdir -p build
rm -f "$vsix"
# (npm run package skips vsce's secret scan, --allow-package-all-secrets: it reads each of the
# ~6,000 bundled files, our server and PyPI packages, and took over 15 CPU-minutes here.)
npm run --silent package -- --out "$vsix" >/dev/null

# --- 3. what went in ---------------------------------------------------------------------------
listing=$(unzip -Z1 "$vsix")
for required in extension/package.json extension/dist/extension.js extension/images/icon.png \
    extension/dist/summary.js extension/dist/summary.css \
    extension/bundled/libs/shapelens/server/__main__.py extension/bundled/libs/pygls/__init__.py \
    extension/bundled/libs/lsprotocol/types.py extension/bundled/libs/jedi/__init__.py \
    extension/bundled/libs/parso/__init__.py; do
  grep -qxF "$required" <<<"$listing" || { log "$vsix lacks $required"; exit 1; }
done
if grep -qE '^extension/(node_modules|client|server|tests|\.venv)/|/torch/' <<<"$listing"; then
  log "$vsix holds files that should not ship"; exit 1
fi
log "built $vsix ($(du -h "$vsix" | cut -f1), $(wc -l <<<"$listing") files)"
echo "$vsix"
