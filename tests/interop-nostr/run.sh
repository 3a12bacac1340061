#!/usr/bin/env bash
# Nostr end to end with real parts: a relay nobody here wrote (PyPI `nostr-relay`, Dave
# St.Germain's Python relay, started on loopback), `nostr-tools` from npm as the client
# (keys, follows, mutes, reports, labels, notes; it verifies the node's NIP-85 events), and
# a real `vouch node` reading the relay. Also regenerates nothing: the vectors of
# specs/vectors/nostr-events.json are checked by `cargo test` (make-vectors.mjs writes them).
#
#   tests/interop-nostr/run.sh      (builds `vouch` with cargo unless $VOUCH names a binary)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE="${VOUCH_CACHE:-$HOME/.cache/vouch}"
mkdir -p "$CACHE"

if [ -z "${VOUCH:-}" ]; then
  (cd "$root" && cargo build -q -p vouch-node --bin vouch)
  VOUCH="${CARGO_TARGET_DIR:-$root/target}/debug/vouch"
fi
if [ ! -d "$here/node_modules/nostr-tools" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
VENV="$CACHE/venv-nostr-relay"
if [ ! -x "$VENV/bin/nostr-relay" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The relay.
port=$(free_port)
cat >"$work/relay.yaml" <<YAML
DEBUG: false
relay_name: vouch interop relay
storage:
  sqlalchemy.url: sqlite+aiosqlite:///$work/relay.sqlite3
  num_concurrent_reqs: 10
  num_concurrent_adds: 2
  validators:
    - nostr_relay.validators.is_not_too_large
    - nostr_relay.validators.is_signed
verification:
  nip05_verification: disabled
gunicorn:
  bind: 127.0.0.1:$port
  workers: 1
  loglevel: warning
  reload: false
authentication:
  enabled: false
message_timeout: 1800
subscription_limit: 32
max_event_size: 524288
oldest_event: 31536000
YAML
"$VENV/bin/nostr-relay" -c "$work/relay.yaml" serve >"$work/relay.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

# The node, reading the relay.
mkdir -p "$work/node"
cat >"$work/node/config.toml" <<TOML
[nostr]
relays = ["ws://127.0.0.1:$port"]
quorum = 2
publish_interval_secs = 2
TOML
"$VOUCH" node run --data-dir "$work/node" --listen /ip4/127.0.0.1/tcp/0 --api 127.0.0.1:0 \
  >"$work/node.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 200); do
  [ -s "$work/node/api.addr" ] && break
  sleep 0.1
done
[ -s "$work/node/api.addr" ] || { cat "$work/node.log"; echo "FAIL: the node did not start"; exit 1; }

api="http://$(cat "$work/node/api.addr")"
export VOUCH_API_TOKEN="$(cat "$work/node/api.token")"
if ! E2E_OUT="$work/e2e.json" node --experimental-websocket "$here/e2e.mjs" "ws://127.0.0.1:$port" "$api"; then
  echo "--- node log"; tail -40 "$work/node.log"; echo "--- relay log"; tail -20 "$work/relay.log"
  exit 1
fi

# The example client (examples/nostr_feed.mjs) against the same relay and node.
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); v=d[sys.argv[2]]; print(' '.join(v) if isinstance(v, list) else v)" "$work/e2e.json" "$1"; }
node --experimental-websocket "$root/examples/nostr_feed.mjs" "ws://127.0.0.1:$port" "$api" "$(field viewer)" >"$work/feed.txt"
ok=0; bad=0
if grep -q "^drop $(field hidden) hide: .*\[nostr events: " "$work/feed.txt"; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "FAIL example: the muted note is not dropped with its events"; fi
for id in $(field shown); do
  if grep -q "^keep $id show" "$work/feed.txt"; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "FAIL example: note $id not kept"; fi
done
grep -q '^kept ' "$work/feed.txt" || { bad=$((bad + 1)); echo "FAIL example: no summary"; }
[ "$bad" -eq 0 ] || { cat "$work/feed.txt"; }
echo "nostr example client: $ok passed, $bad failed"
[ "$bad" -eq 0 ]
