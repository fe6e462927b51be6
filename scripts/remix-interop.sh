#!/usr/bin/env bash
# Cross-implementation check of the `remix` feature: the published npm
# packages (@remix-run/session, @remix-run/cookie, react-router; exact
# versions in interop/remix/package-lock.json) write cookies that the Rust
# side must read, and read the cookies the Rust side writes. Fails on any
# mismatch. Needs Node >= 20 and npm.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$root/interop/remix"
npm ci --no-audit --no-fund --loglevel=error
# The fixtures of tests/remix.rs are what these packages write today.
node make-vectors.mjs > "$tmp/sessions.json"
diff -u "$root/tests/vectors/remix/sessions.json" "$tmp/sessions.json"
node exchange.mjs write > "$tmp/node.json"

cd "$root"
cargo run --quiet --features remix --example remix_interop -- "$tmp/node.json" "$tmp/rust.json"

cd "$root/interop/remix"
node exchange.mjs check "$tmp/rust.json"
