#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a loopback port for the server's test suite (issue 8).
#   .ci/postgres.sh start   installs Debian's postgresql package if missing, initialises a cluster
#                           in a temporary directory, starts it on 127.0.0.1:$PGPORT (54329) and
#                           prints the URL to export as INBOX_TEST_POSTGRES_URL.
#   .ci/postgres.sh stop    stops it and deletes the directory.
# Tests run with fsync and synchronous commit off (fast, and a crash only loses a scratch
# cluster). INBOX_PG_DURABLE=1 starts a cluster with production durability instead (fsync,
# synchronous_commit and full_page_writes on), for benchmarks that compare durable commits.
# initdb refuses to run as root, so as root the cluster runs as the `postgres` user.
set -euo pipefail

port=${PGPORT:-54329}
dir=${INBOX_PG_DIR:-${TMPDIR:-/tmp}/garage-inbox-pg-$port}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/initdb" ] && echo "$d"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
  start)
    if ! bindir >/dev/null; then
      echo "==> installing postgresql (Debian package)" >&2
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    fi
    bin=$(bindir)
    if [ -f "$dir/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/postgres"
      exit 0
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_owner "$bin/initdb" -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    # Tests create and drop a database each, several at once, each with a pool and a listener.
    durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [ "${INBOX_PG_DURABLE:-0}" = 1 ] && durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
    as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 $durability" \
      start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    if bin=$(bindir) && [ -d "$dir" ]; then
      as_owner "$bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
      rm -rf "$dir"
    fi
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
