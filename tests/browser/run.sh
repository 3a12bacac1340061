#!/usr/bin/env bash
# The browser suite: web pages against a running node, in Debian's Chromium driven by
# Playwright (pinned, tests/browser/requirements.txt, in a virtualenv under the cache
# folder). Installs Chromium with apt when it is missing (Playwright's own browser download
# needs the internet; Debian's package does not). Needs the `vouch` binary: $VOUCH or the
# debug build.
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${VOUCH_CACHE:-$HOME/.cache/vouch}"
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
VENV="$CACHE/venv-browser"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r tests/browser/requirements.txt
export VOUCH="${VOUCH:-${CARGO_TARGET_DIR:-target}/debug/vouch}"
export VOUCH_CHROMIUM="${VOUCH_CHROMIUM:-$(command -v chromium)}"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/browser
