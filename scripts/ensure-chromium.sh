#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (playwright-core cannot download a browser here).
# Installs it when missing. With CI=true a Chromium that cannot be installed fails the run;
# elsewhere the browser tests are skipped, saying so.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
[ -x "$CHROMIUM" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "installing Debian's chromium for the browser tests…" >&2
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || true
fi
if [ ! -x "$CHROMIUM" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "error: $CHROMIUM is required for the browser tests and could not be installed (apt-get install chromium)" >&2
    exit 1
  fi
  echo "warning: $CHROMIUM is missing; the browser tests will be skipped" >&2
fi
