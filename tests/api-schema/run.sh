#!/usr/bin/env bash
# The API's contract test: installs Schemathesis (pinned, tests/api-schema/requirements.txt)
# into a virtualenv under the cache folder, then checks a live, seeded node against
# specs/api/openapi.yaml (run.py). Needs the `vouch` binary: $VOUCH or the debug build.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${VOUCH_CACHE:-$HOME/.cache/vouch}"
VENV="$CACHE/venv-api"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/api-schema/requirements.txt
VOUCH="${VOUCH:-${CARGO_TARGET_DIR:-target}/debug/vouch}"
"$VENV/bin/python" tests/api-schema/run.py "$VOUCH"
