#!/usr/bin/env bash
# Installs what building the .vsix and the real-VS-Code test need, on a fresh Debian machine:
#   1. Debian packages: Chromium (the browser playwright drives), ripgrep and the headers that
#      code-server's native modules build against;
#   2. the extension's npm dependencies (npm ci, from package-lock.json);
#   3. code-server (the real VS Code workbench, served to the browser) into .tools/.
# Idempotent: each step checks first and is skipped when already done (a second run takes ~1 s).
# The facts behind each step are in shared/REAL_EDITOR.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CODE_SERVER_VERSION=4.100.3
CODE_SERVER_DIR=$ROOT/.tools/code-server-$CODE_SERVER_VERSION
CODE_SERVER_BIN=$CODE_SERVER_DIR/node_modules/.bin/code-server
CHROMIUM=/usr/lib/chromium/chromium

log() { printf '[setup-editors] %s\n' "$*" >&2; }

# --- 1. Debian packages ------------------------------------------------------------------------
APT_PACKAGES=(chromium ripgrep pkg-config g++ make python3 libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to apt-get install ${missing[*]}"; exit 1; }
    SUDO=(sudo)
  fi
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x "$CHROMIUM" ] || { log "Chromium not found at $CHROMIUM after install"; exit 1; }

# --- 2. the extension's npm dependencies -------------------------------------------------------
# npm ci wipes node_modules, so only run it when package-lock.json changed since the last run.
LOCK_STAMP=node_modules/.shapelens-lock.sha256
lock_sha=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$LOCK_STAMP" ] || [ "$(cat "$LOCK_STAMP")" != "$lock_sha" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sha" > "$LOCK_STAMP"
fi

# --- 3. code-server ----------------------------------------------------------------------------
installed_version() {
  [ -x "$CODE_SERVER_BIN" ] && node -p "require('$CODE_SERVER_DIR/node_modules/code-server/package.json').version" 2>/dev/null
}
if [ "$(installed_version || true)" != "$CODE_SERVER_VERSION" ] \
   || [ ! -f "$CODE_SERVER_DIR/.installed" ]; then
  log "installing code-server $CODE_SERVER_VERSION into ${CODE_SERVER_DIR#"$ROOT"/} (about a minute)"
  rm -rf "$CODE_SERVER_DIR"
  mkdir -p "$CODE_SERVER_DIR"
  # @vscode/ripgrep's postinstall downloads rg from a host this machine cannot reach; it first
  # looks in its cache under os.tmpdir(), so seed that cache with Debian's rg.
  tmpdir=$(node -p 'require("os").tmpdir()')
  rg_cache=$tmpdir/vscode-ripgrep-cache-1.15.11
  rg_tarball=$rg_cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
  if [ ! -s "$rg_tarball" ]; then
    mkdir -p "$rg_cache"
    staging=$(mktemp -d)
    cp "$(command -v rg)" "$staging/rg"
    tar -C "$staging" -czf "$rg_tarball" rg
    rm -rf "$staging"
  fi
  # node-pty's postinstall runs `npx node-gyp` (needs yes) and builds against the system headers.
  (
    cd "$CODE_SERVER_DIR"
    echo '{"name": "shapelens-code-server", "private": true}' > package.json
    npm_config_yes=true npm_config_nodedir=/usr \
      npm install --no-audit --no-fund --loglevel=error --unsafe-perm --foreground-scripts \
      "code-server@$CODE_SERVER_VERSION" > install.log 2>&1 \
      || { tail -40 install.log >&2; exit 1; }
  )
  "$CODE_SERVER_BIN" --version >/dev/null
  touch "$CODE_SERVER_DIR/.installed"
fi

log "ready: chromium $("$CHROMIUM" --version 2>/dev/null | awk '{print $2}'), code-server $(installed_version)"
