#!/usr/bin/env bash
# A throw-away PostgreSQL server on loopback, for integration tests and local trials.
#
#   deploy/postgres/pg.sh start    install the server if missing (Debian), init, start, wait
#   deploy/postgres/pg.sh stop     stop it
#   deploy/postgres/pg.sh url      print its URL (postgresql://ohs@127.0.0.1:PORT/postgres)
#
# Environment:
#   PG_DATA_DIR   cluster folder (default .run/postgres in the repo)
#   PG_PORT       port on 127.0.0.1 (default 55432)
#
# PostgreSQL refuses to run as root; as root this script runs the server as the `postgres`
# system user that Debian's package creates. Authentication is `trust` on loopback only: this
# cluster is for tests and trials, not for production data.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
data="${PG_DATA_DIR:-$repo/.run/postgres}"
port="${PG_PORT:-55432}"

log() { printf 'postgres: %s\n' "$*" >&2; }

bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -z "$dir" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "PostgreSQL server not found; installing Debian's postgresql package"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  fi
  [ -n "$dir" ] || { log "no PostgreSQL server: install Debian's postgresql package"; exit 1; }
  echo "$dir"
}

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local bin; bin="$(bindir)"
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data" && chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initialising a cluster in $data"
    as_owner "$bin/initdb" -D "$data" -U ohs --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    log "already running"; return 0
  fi
  as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$data -c fsync=off -c max_connections=200" start >/dev/null
  log "ready on 127.0.0.1:$port"
}

stop() {
  local bin; bin="$(bindir)"
  if [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    log "stopped"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) echo "postgresql://ohs@127.0.0.1:$port/postgres" ;;
  *) sed -n '2,16p' "$0"; exit 2 ;;
esac
