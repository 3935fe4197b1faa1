#!/usr/bin/env bash
# Installs what SOVBridge needs to build and test, when missing: as root through apt-get and pip,
# otherwise by printing exactly what to install. Safe to run again and again.
set -euo pipefail

need_apt=()
pkg-config --exists libxml-2.0 2>/dev/null || need_apt+=(libxml2-dev)
pkg-config --exists sqlite3 2>/dev/null || need_apt+=(libsqlite3-dev)
# The SQLite ledger stores unit bodies and documents as zstd frames (zstd), and reads the zlib
# streams earlier releases wrote (zlib).
pkg-config --exists libzstd 2>/dev/null || need_apt+=(libzstd-dev)
pkg-config --exists zlib 2>/dev/null || need_apt+=(zlib1g-dev)
# The PostgreSQL ledger is built in: its client library is needed to build at all.
pkg-config --exists libpq 2>/dev/null || need_apt+=(libpq-dev)
# The server only to test against one (make test-postgres, CI): SOV_SETUP_POSTGRES=1.
if [ "${SOV_SETUP_POSTGRES:-0}" = 1 ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  need_apt+=(postgresql)
fi
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v xmllint >/dev/null 2>&1 || need_apt+=(libxml2-utils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)

if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "setup: installing ${need_apt[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing system packages; run: sudo apt-get install -y ${need_apt[*]}" >&2
    exit 1
  fi
fi

if ! python3 -c 'import jsonschema' 2>/dev/null; then
  echo "setup: installing jsonschema from PyPI"
  python3 -m pip install -q jsonschema || { echo "setup: run: python3 -m pip install jsonschema" >&2; exit 1; }
fi

command -v swift >/dev/null 2>&1 || { echo "setup: Swift 6.1 or later is required (swift not on PATH)" >&2; exit 1; }
