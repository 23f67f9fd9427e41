#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core cannot download a browser here), and
# the benchmark draws its chart with it. Installs it when missing. With CI=true a Chromium that
# cannot be installed fails the run; elsewhere what needs it is skipped, saying so.
#   scripts/ensure-chromium.sh [what needs it]   (default: the browser tests)
set -euo pipefail
FOR="${1:-the browser tests}"
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "installing Debian's chromium for $FOR…" >&2
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || true
fi
if [ ! -x "$CHROMIUM" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: $CHROMIUM is required for $FOR and could not be installed (apt-get install chromium)" >&2
    exit 1
  fi
  echo "warning: $CHROMIUM is missing; $FOR will be skipped" >&2
fi
