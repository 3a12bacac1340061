#!/usr/bin/env bash
# Interop end-to-end, offline: JavaScript's @ipld/car + @ipld/dag-cbor + multiformats read the
# CAR files `vouch export` writes (every block's CID re-derived, every block canonical), and
# write CAR files `vouch import` accepts, including objects signed in JavaScript; damaged
# blocks and a forged signature are refused with their codes.
#
#   tests/interop-car/run.sh           (builds `vouch` with cargo unless $VOUCH names a binary)
# Needs node >= 18 and `npm ci` done in this folder (done here if node_modules is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${VOUCH:-}" ]; then
  (cd "$root" && cargo build -q -p vouch-node --bin vouch)
  VOUCH="${CARGO_TARGET_DIR:-$root/target}/debug/vouch"
fi
if [ ! -d "$here/node_modules/@ipld/car" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VOUCH_HOME="$work/home"
unset VOUCH_KEY VOUCH_KEY_DIR VOUCH_NODE VOUCH_DATA_DIR
fail() { echo "FAIL: $*" >&2; exit 1; }
js() { node "$here/interop.mjs" "$@"; }
v() { "$VOUCH" "$@"; }

# 1. vouch signs one object of every kind it makes (no node: --no-submit --out).
n=0
sign() { n=$((n + 1)); v "$@" --no-submit --out "$work/o$n.cbor" >/dev/null; }
for k in alice bob owner mod; do v key new "$k" >/dev/null; done
owner=$(v key show owner --json | sed 's/.*"did":"\([^"]*\)".*/\1/')
sign post --key alice "hello, IPFS"
post=$(v object check "$work/o1.cbor" --json | sed 's/.*"cid":"\([^"]*\)".*/\1/')
sign post --key bob "reply" --reply "$post" --link "$post"
sign vote --key bob "$post" up
sign attest --key alice bob 70 --claim "met at the meetup"
sign list create --key alice spam --description "spam accounts"
sign list add --key alice --list spam bob --reason "sells pills" --category spam
sign list remove --key alice --list spam bob
sign group create --key owner club --rules "Be kind." --min-trust 10 --moderator mod
# (group create wrote two files: the header and its ban list's header, oN-2.cbor)
sign group ban --key mod --group "$owner/club" bob --reason spam --expires +7d
sign label --key alice "$post" nsfw --reason "not safe"
sign report --key bob "$post" --group "$owner/club" --category spam
sign appeal --key bob "$post" --text "why?"
sign key revoke bob --since -1h
sign key rotate alice alice-2 2>/dev/null
files=("$work"/o*.cbor)
count=${#files[@]}
[ "$count" -eq 15 ] || fail "expected 15 objects, got $count"
v export --out "$work/vouch.car" "${files[@]}" >/dev/null
js read "$work/vouch.car" "$count" >"$work/read1.json" || fail "JavaScript rejected vouch's CAR"
for kind in post vote attest list list-add list-remove group label report appeal revoke rotate; do
  grep -q "\"$kind\":" "$work/read1.json" || fail "kind $kind missing from $(cat "$work/read1.json")"
done

# 2. Through a store: import into a data dir, export the whole store, read it again.
v import "$work/vouch.car" --into "$work/store" >/dev/null
v export --out "$work/store.car" --data-dir "$work/store" >/dev/null
js read "$work/store.car" "$count" >/dev/null || fail "JavaScript rejected the store export"

# 3. JavaScript writes a CAR: vouch's objects re-encoded by @ipld/dag-cbor, plus a post and a
#    vote signed in JavaScript. vouch imports all of them, and exports them again.
signed=$(js write "$work/js.car" "$work/vouch.car")
out=$(v import "$work/js.car" --into "$work/store2" --json) || fail "vouch refused JavaScript's CAR: $out"
case "$out" in *"\"new\":$((count + 2))"*"\"problems\":0"*) ;; *) fail "unexpected import: $out" ;; esac
cids=$(echo "$signed" | sed 's/.*"signed":\["\([^"]*\)","\([^"]*\)"\].*/\1 \2/')
v export --out "$work/back.car" --data-dir "$work/store2" >/dev/null
# shellcheck disable=SC2086
js has "$work/back.car" $cids >/dev/null || fail "JavaScript's objects missing after the round trip"
js read "$work/back.car" "$((count + 2))" >/dev/null || fail "JavaScript rejected the round trip"

# 4. A block whose bytes no longer match its CID, and a forged signature: both refused with
#    their codes (exit 1), nothing imported.
js tamper "$work/bad.car" "$work/vouch.car" >/dev/null
set +e; out=$(v import "$work/bad.car" --check-only --json); rc=$?; set -e
[ "$rc" -eq 1 ] || fail "vouch accepted a tampered CAR (exit $rc): $out"
case "$out" in *car-cid-mismatch*invalid-signature*) ;; *) fail "expected car-cid-mismatch and invalid-signature: $out" ;; esac

echo "interop-car: PASS ($count objects of 12 kinds: vouch -> @ipld/car read and checked," \
  "store round trip; @ipld/car + 2 JavaScript-signed objects -> vouch imported;" \
  "tampered block and forged signature refused)"
