#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the ledger tests (docs/ARCHITECTURE.md, "Ledger backends").
#   pg-cluster.sh start DIR   initdb into DIR/data, start it listening only on a Unix socket in
#                             DIR (no TCP port: nothing to collide with, nothing reachable from
#                             outside), create database "sov", print its ledger URL
#   pg-cluster.sh stop DIR    stop it (fast shutdown) and remove DIR; safe to run twice
#   pg-cluster.sh restart DIR restart it (the tests' "server restarted mid-run")
# PostgreSQL refuses to run as root: as root, the cluster runs as "nobody".
set -euo pipefail

command=${1:?usage: pg-cluster.sh start|stop|restart DIR}
dir=${2:?usage: pg-cluster.sh start|stop|restart DIR}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bin" ] && command -v pg_ctl >/dev/null 2>&1; then bin=$(dirname "$(command -v pg_ctl)"); fi
[ -n "$bin" ] && [ -x "$bin/pg_ctl" ] || { echo "pg-cluster: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

case "$command" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown nobody "$dir"; fi
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U sov --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || as_owner "$bin/initdb" -D "$dir/data" -U sov --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    # The socket directory must be reachable by the tests' user: the folder is opened to all,
    # the socket itself is PostgreSQL's (0777 by default); only this machine can reach it.
    chmod 755 "$dir"
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-k $dir -c listen_addresses='' -c fsync=off -c max_connections=100" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h "$dir" -U sov sov
    echo "postgresql://sov@/sov?host=$dir"
    ;;
  restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -m fast restart >/dev/null
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -w -t 60 -m fast stop >/dev/null 2>&1 \
        || as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: pg-cluster.sh start|stop|restart DIR" >&2; exit 64 ;;
esac
