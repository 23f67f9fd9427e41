#!/usr/bin/env bash
# The PostgreSQL half of the test suite needs a server. Unless HOOKLINE_TEST_POSTGRES_URL names one,
# this starts a private cluster (Debian's postgresql package, installed when missing) on a free
# loopback port, and writes its URL to $DIR/url for the tests. The cluster stays up for later runs.
# With CI=true a server that cannot be had fails the run; elsewhere the PostgreSQL tests are skipped.
set -euo pipefail
DIR="${TMPDIR:-/tmp}/hookline-test-postgres"
mkdir -p "$DIR"
chmod 755 "$DIR"
if [ -n "${HOOKLINE_TEST_POSTGRES_URL:-}" ]; then echo "$HOOKLINE_TEST_POSTGRES_URL" >"$DIR/url"; exit 0; fi

fail() {
  rm -f "$DIR/url"
  if [ "${CI:-}" = "true" ]; then echo "error: $1" >&2; exit 1; fi
  echo "warning: $1; the PostgreSQL tests will be skipped" >&2
  exit 0
}

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
BIN=$(bin_dir || true)
if [ -z "$BIN" ] && command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  echo "installing Debian's postgresql for the tests…" >&2
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null 2>&1 || true
  BIN=$(bin_dir || true)
fi
[ -n "$BIN" ] || fail "PostgreSQL is needed for the PostgreSQL tests and could not be installed (apt-get install postgresql)"

# PostgreSQL refuses to run as root: run the cluster as the package's postgres user then.
AS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || fail "no postgres user to run the server as"
  chown postgres "$DIR"
  AS=(runuser -u postgres --)
fi

# As the cluster's user: probing as the caller (root here) made the server log a FATAL each time.
if [ -f "$DIR/port" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$(cat "$DIR/port")" -U hookline -d postgres; then
  echo "postgres://hookline@127.0.0.1:$(cat "$DIR/port")/postgres" >"$DIR/url"
  exit 0
fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  "${AS[@]}" "$BIN/initdb" -D "$DIR/data" -U hookline -A trust --no-sync >"$DIR/initdb.log" 2>&1 || fail "initdb failed: $(tail -n 3 "$DIR/initdb.log")"
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"${AS[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null || fail "the PostgreSQL server did not start: $(tail -n 3 "$DIR/server.log")"
echo "$PORT" >"$DIR/port"
echo "postgres://hookline@127.0.0.1:$PORT/postgres" >"$DIR/url"
