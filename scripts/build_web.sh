#!/usr/bin/env bash
# Builds the web console (web-ui/, React + Vite) into src/pylot/web/static, where the server serves it at /.
#
# Idempotent and cheap when nothing changed:
#   - `npm ci` runs only when package-lock.json changed since the last install (npm's cache lives in
#     $PYLOT_HOME/npm, default ~/.cache/pylot/npm, so a reinstall needs no network once warm);
#   - `vite build` runs only when the sources changed: a hash of web-ui/src, index.html, the configs and
#     package-lock.json is stored next to the output (static/.build-hash) and compared.
#
# Usage: scripts/build_web.sh [--force] [--optional]
#   --force     rebuild even if the sources did not change
#   --optional  without a suitable Node.js, warn and exit 0 instead of failing (the API works without
#               the console)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$ROOT/web-ui"
OUT="$ROOT/src/pylot/web/static"
PYLOT_HOME="${PYLOT_HOME:-$HOME/.cache/pylot}"
NPM_CACHE="$PYLOT_HOME/npm"
NODE_MIN="20.19.0"

force=0
optional=0
for arg in "$@"; do
  case "$arg" in
    --force) force=1 ;;
    --optional) optional=1 ;;
    *) echo "usage: $0 [--force] [--optional]" >&2; exit 2 ;;
  esac
done

say() { echo "[build_web] $*"; }

give_up() {
  if [ "$optional" = 1 ]; then
    say "WARNING: $* The web console is not built; the API works without it."
    exit 0
  fi
  say "ERROR: $*" >&2
  exit 1
}

version_at_least() { # $1 >= $2, both x.y.z
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

command -v node >/dev/null 2>&1 || give_up "Node.js >= $NODE_MIN is needed (https://nodejs.org)."
command -v npm >/dev/null 2>&1 || give_up "npm is needed (it comes with Node.js)."
node_version="$(node --version | sed 's/^v//')"
version_at_least "$node_version" "$NODE_MIN" || give_up "Node.js $node_version is too old; $NODE_MIN or newer is needed."

# sha256 that works on Linux (sha256sum) and macOS (shasum).
if command -v sha256sum >/dev/null 2>&1; then sha256() { sha256sum "$@"; }; else sha256() { shasum -a 256 "$@"; }; fi
sha() { sha256 | cut -d' ' -f1; }

cd "$WEB"

# One build at a time (make run and make test may start together).
mkdir -p "$PYLOT_HOME"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$PYLOT_HOME/build_web.lock"
  flock 9
fi

lock_hash="$(sha < package-lock.json)"
stamp="node_modules/.pylot-lock-hash"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ]; then
  say "dependencies up to date"
else
  say "installing dependencies (npm ci, cache in $NPM_CACHE)"
  npm ci --cache "$NPM_CACHE" --prefer-offline --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi

# File names and contents, so a rename counts as a change too.
source_hash="$(
  find src index.html vite.config.ts tsconfig.json package.json package-lock.json -type f -print0 \
    | LC_ALL=C sort -z | while IFS= read -r -d '' f; do sha256 "$f"; done | sha
)"
if [ "$force" = 0 ] && [ -f "$OUT/index.html" ] && [ -f "$OUT/.build-hash" ] \
   && [ "$(cat "$OUT/.build-hash")" = "$source_hash" ]; then
  say "console up to date in ${OUT#"$ROOT"/}"
  exit 0
fi

say "building the console into ${OUT#"$ROOT"/}"
npx --no-install vite build --logLevel warn
echo "$source_hash" > "$OUT/.build-hash"
say "done"
