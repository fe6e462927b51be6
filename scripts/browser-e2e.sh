#!/usr/bin/env bash
# Browser end-to-end test: drives an example app in headless Chromium
# through Playwright (e2e/browser.test.mjs).
#
#   scripts/browser-e2e.sh [app|actix_app]
#
# `app` (the default) is examples/app.rs on axum; `actix_app` is
# examples/actix_app.rs, the same application on actix-web.
#
# Installs what is missing (Debian's chromium and chromium-driver, Node.js,
# the locked npm packages), builds the app, starts it on a free port of
# 127.0.0.1, runs the test, stops the app. Exits non-zero on any failure.
# No browser is downloaded: Playwright drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

app=${1:-app}
case "$app" in
  app) features=axum ;;
  actix_app) features=actix ;;
  *) echo "usage: $0 [app|actix_app]" >&2; exit 2 ;;
esac

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "browser-e2e: installing ${missing[*]}"
  as_root apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
  echo "browser-e2e: Node.js 18 or later is needed, found $(node --version)" >&2
  exit 1
fi

(cd e2e && npm ci --no-audit --no-fund)
cargo build --example "$app" --features "$features"

workdir=$(mktemp -d)
app_pid=""
: >"$workdir/app.out"
: >"$workdir/app.err"
cleanup() {
  if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; wait "$app_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

# A fixed secret for this run only; port 0: the app reports the port it got.
# A short refresh_after, so the test sees a cookie refreshed.
export MAX_AGE=3600 REFRESH_AFTER=5
COOKIE_SESSION_SECRET=$(head -c 32 /dev/urandom | base64 | tr -d '\n') \
COOKIE_SESSION_MAX_AGE=$MAX_AGE COOKIE_SESSION_REFRESH_AFTER=$REFRESH_AFTER \
APP_ADDR=127.0.0.1:0 \
  "${CARGO_TARGET_DIR:-target}/debug/examples/$app" >"$workdir/app.out" 2>"$workdir/app.err" &
app_pid=$!

port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's#^listening on http://127\.0\.0\.1:\([0-9]*\)$#\1#p' "$workdir/app.out")
  [ -n "$port" ] && break
  if ! kill -0 "$app_pid" 2>/dev/null; then
    echo "browser-e2e: the app exited:" >&2; cat "$workdir/app.err" >&2; exit 1
  fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "browser-e2e: the app did not start listening" >&2; cat "$workdir/app.err" >&2; exit 1
fi
echo "browser-e2e: $app on http://localhost:$port (pid $app_pid)"

status=0
(cd e2e && APP_URL="http://localhost:$port" node --test browser.test.mjs) || status=$?
if [ "$status" -ne 0 ]; then
  echo "browser-e2e: FAILED; app stderr:" >&2; cat "$workdir/app.err" >&2
fi
exit "$status"
