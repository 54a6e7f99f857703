#!/usr/bin/env bash
# Installs Neovim (Debian's package, 0.7.2 on bookworm) for the headless real-editor LSP test
# (tests/nvim/).  Idempotent: does nothing when an `nvim` that runs is already on PATH.
# Needs root or sudo for apt-get; facts behind it in shared/REAL_EDITOR.md.
set -euo pipefail

log() { printf '[setup-nvim] %s\n' "$*" >&2; }

if command -v nvim >/dev/null 2>&1 && nvim --version >/dev/null 2>&1; then
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { log "need root (or sudo) to apt-get install neovim"; exit 1; }
  SUDO=(sudo)
fi

log "installing neovim (apt-get)"
# An update is only needed when the package lists do not know neovim yet.
if ! apt-cache show neovim >/dev/null 2>&1; then
  "${SUDO[@]}" apt-get update -qq
fi
if ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends neovim >/dev/null; then
  "${SUDO[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends neovim >/dev/null
fi
command -v nvim >/dev/null || { log "nvim not found after installing neovim"; exit 1; }
log "$(nvim --version | head -1)"
