#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster (scripts/pg-cluster.sh): its ledger URL in
# SOV_TEST_POSTGRES_URL (the tests' switch for the PostgreSQL ledger suite), its folder in
# SOV_TEST_POSTGRES_DIR (for the test that restarts the server). The cluster is stopped and its
# folder removed on any exit, the command's status kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/sovpg.XXXXXX")
trap 'bash "$here/pg-cluster.sh" stop "$dir"' EXIT
trap 'exit 130' INT TERM
SOV_TEST_POSTGRES_URL=$(bash "$here/pg-cluster.sh" start "$dir")
export SOV_TEST_POSTGRES_URL
export SOV_TEST_POSTGRES_DIR="$dir"
echo "with-postgres: throwaway PostgreSQL at $SOV_TEST_POSTGRES_URL"
"$@"
