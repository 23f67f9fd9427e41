#!/usr/bin/env bash
# The benchmark's baseline (BullMQ) needs Redis. Installs Debian's redis-server when missing; the
# bench starts its own instance on a free loopback port. Prints the server's path, or fails.
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1 && [ ! -x /usr/bin/redis-server ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "installing Debian's redis-server for the benchmark baseline…" >&2
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1 || true
fi
command -v redis-server || { [ -x /usr/bin/redis-server ] && echo /usr/bin/redis-server; } || { echo "error: redis-server could not be installed (apt-get install redis-server)" >&2; exit 1; }
