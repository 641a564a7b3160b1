#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store tests (Debian's `postgresql` package, no system service).
#
#   eval "$(scripts/pg-test-cluster.sh start)"   # prints KILN_TEST_PG_URL=… and KILN_TEST_PG_DIR=…
#   export KILN_TEST_PG_URL KILN_TEST_PG_DIR
#   npx vitest run packages/store
#   scripts/pg-test-cluster.sh stop              # uses $KILN_TEST_PG_DIR (or pass the dir)
#
# The cluster lives in a temp dir (data, log, unix socket), listens on 127.0.0.1 on a free port with
# trust auth, and runs without fsync: it is for tests only. As root it runs as the `postgres` user
# (PostgreSQL refuses to run as root). PG_BIN overrides the server's bin directory.
set -euo pipefail

die() {
  echo "pg-test-cluster: $*" >&2
  exit 1
}

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/initdb" ] || die "PG_BIN=$PG_BIN has no initdb"
    echo "$PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] ||
    die "PostgreSQL is not installed: \`apt-get install -y postgresql\` (or set PG_BIN to its bin directory)"
  echo "$dir"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  node -e 'const s=require("node:net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

start() {
  local bin dir port
  bin=$(find_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kiln-pg.XXXXXX")
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user postgres is missing (it comes with \`apt-get install postgresql\`)"
    chown postgres: "$dir"
  fi
  as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    die "initdb failed"
  }
  # A free port can be taken between our probe and the server's bind: try a few.
  local attempt
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null; then
      echo "KILN_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
      echo "KILN_TEST_PG_DIR=$dir"
      return
    fi
    echo "pg-test-cluster: start on port $port failed (attempt $attempt)" >&2
  done
  tail -n 20 "$dir/postgres.log" >&2 || true
  rm -rf "$dir"
  die "could not start PostgreSQL"
}

stop() {
  local dir="${1:-${KILN_TEST_PG_DIR:-}}"
  [ -n "$dir" ] || die "stop: pass the cluster dir or set KILN_TEST_PG_DIR"
  case "$dir" in
  */kiln-pg.*) ;;
  *) die "stop: $dir is not a cluster made by this script" ;;
  esac
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$(find_bin)/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
start) start ;;
stop) stop "${2:-}" ;;
*) die "usage: $0 start | stop [DIR]" ;;
esac
