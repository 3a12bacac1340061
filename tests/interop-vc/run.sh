#!/usr/bin/env bash
# Interop end-to-end, offline: Digital Bazaar's VC stack verifies a credential `vouch` issued
# and rejects tampered copies; `vouch credential verify` accepts one Digital Bazaar issued and
# rejects a tampered copy.
#
#   tests/interop-vc/run.sh            (builds `vouch` with cargo unless $VOUCH names a binary)
# Needs node >= 18 and `npm ci` done in this folder (done here if node_modules is missing).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${VOUCH:-}" ]; then
  (cd "$root" && cargo build -q -p vouch-node --bin vouch)
  VOUCH="${CARGO_TARGET_DIR:-$root/target}/debug/vouch"
fi
if [ ! -d "$here/node_modules/@digitalbazaar/vc" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export VOUCH_KEY_DIR="$work/keys"
fail() { echo "FAIL: $*" >&2; exit 1; }
js() { node "$here/interop.mjs" "$@"; }

"$VOUCH" identity new --name issuer >/dev/null 2>&1
holder=$("$VOUCH" identity new --name holder 2>/dev/null)
other=$("$VOUCH" identity new --name other 2>/dev/null)

# 1. vouch issues; Digital Bazaar verifies.
"$VOUCH" credential issue --issuer issuer --subject "$holder" --claim verifiedBy=interop-check \
  --out "$work/vouch.json"
js verify "$work/vouch.json" || fail "Digital Bazaar rejected vouch's credential"
"$VOUCH" credential verify "$work/vouch.json" >/dev/null || fail "vouch rejected its own credential"

# 2. Tampered copies: Digital Bazaar must reject them (exit 1 = verified false, not a crash).
sed 's/interop-check/interop-check!/' "$work/vouch.json" >"$work/t1.json"
sed "s/$holder/$other/" "$work/vouch.json" >"$work/t2.json"
for t in t1 t2; do
  cmp -s "$work/vouch.json" "$work/$t.json" && fail "tampering $t changed nothing"
  set +e; js verify "$work/$t.json"; rc=$?; set -e
  [ "$rc" -eq 1 ] || fail "Digital Bazaar did not reject tampered copy $t (exit $rc)"
done

# 3. Digital Bazaar issues; vouch verifies, and rejects a tampered copy with vc-bad-proof.
js issue "$work/js.json" "$holder" >/dev/null
"$VOUCH" credential verify "$work/js.json" || fail "vouch rejected Digital Bazaar's credential"
sed 's/digital bazaar interop/digital bazaar interop!/' "$work/js.json" >"$work/t3.json"
cmp -s "$work/js.json" "$work/t3.json" && fail "tampering t3 changed nothing"
set +e; out=$("$VOUCH" credential verify "$work/t3.json" 2>/dev/null); rc=$?; set -e
[ "$rc" -eq 1 ] || fail "vouch accepted a tampered Digital Bazaar credential"
case "$out" in *vc-bad-proof*) ;; *) fail "expected vc-bad-proof, got: $out" ;; esac

echo "interop-vc: PASS (vouch -> Digital Bazaar verified, 2 tampered copies rejected;" \
  "Digital Bazaar -> vouch verified, tampered copy rejected)"
