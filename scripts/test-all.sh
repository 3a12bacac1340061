#!/usr/bin/env bash
# Runs every test suite of Vouch: the Rust workspace (unit, property, vector and end-to-end
# tests) and the interop suites that check our formats with independent implementations.
# Installs what it needs (Python packages into a virtualenv under the cache folder).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${VOUCH_CACHE:-$HOME/.cache/vouch}"
mkdir -p "$CACHE"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"

# The attack suite (crates/node/tests/e2e_attack.rs) puts an attacker in a network
# namespace: it needs `ip` (iproute2) and root, and fails without them.
if ! command -v ip >/dev/null 2>&1; then
  echo "==> installing iproute2 (the attack suite's network namespaces)"
  apt-get update -qq && apt-get install -y -qq iproute2
fi
# The durability tests trace a node's system calls (strace) and mount a small tmpfs (root).
if ! command -v strace >/dev/null 2>&1; then
  echo "==> installing strace (the fsync ordering test reads a node's system calls)"
  apt-get update -qq && apt-get install -y -qq strace
fi

echo "==> cargo test --workspace (the node's default feature vc brings ssi and zkryptium)"
cargo test --workspace --locked

echo "==> interop: object vectors checked by Python (dag-cbor, multiformats, PyNaCl)"
VENV="$CACHE/venv-objects"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/interop-objects/requirements.txt
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/interop-objects

echo "==> interop: credentials checked by Digital Bazaar's VC stack (Node.js, offline)"
(cd tests/interop-vc && npm ci --no-audit --no-fund --silent)
cargo build -p vouch-node --bin vouch --locked --quiet
VOUCH="$CARGO_TARGET_DIR/debug/vouch" bash tests/interop-vc/run.sh

echo "==> interop: CAR files read and written by @ipld/car + @ipld/dag-cbor (Node.js, offline)"
(cd tests/interop-car && npm ci --no-audit --no-fund --silent)
VOUCH="$CARGO_TARGET_DIR/debug/vouch" bash tests/interop-car/run.sh

echo "==> differential: vouch's object decoder against Python's and @ipld/dag-cbor on the fuzz corpus"
"$VENV/bin/python" tests/interop-objects/differential.py "$CARGO_TARGET_DIR/debug/vouch" --node node

echo "==> Nostr: a real relay (PyPI nostr-relay), nostr-tools (npm) as the client, a vouch node reading it"
(cd tests/interop-nostr && npm ci --no-audit --no-fund --silent)
VOUCH="$CARGO_TARGET_DIR/debug/vouch" bash tests/interop-nostr/run.sh

echo "==> API contract: a live, seeded node checked against specs/api/openapi.yaml by Schemathesis"
VOUCH="$CARGO_TARGET_DIR/debug/vouch" bash tests/api-schema/run.sh

echo "==> browser: web pages against a running node (Debian's Chromium driven by Playwright)"
VOUCH="$CARGO_TARGET_DIR/debug/vouch" bash tests/browser/run.sh
