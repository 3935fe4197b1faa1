#!/usr/bin/env bash
# make test, last step: every request body `sov-emit --to procore` writes must validate against
# Procore's schema for its endpoint (../shared/reference/procore/*.request.schema.json).
# Bodies come from (1) the canonical fixtures in Tests/Fixtures/procore/canonical and (2) the
# Spectrum samples run through the whole pipeline. Any invalid body, unknown endpoint, or stage
# failure (exit status above 1; 1 only means some documents were rejected) fails the check.
set -euo pipefail
bin="${1:?usage: scripts/schema-check.sh <bin-dir>}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if ! python3 -c 'import jsonschema' 2>/dev/null; then
  echo "schema-check: installing jsonschema from PyPI"
  python3 -m pip install -q jsonschema || { echo "schema-check: run: python3 -m pip install jsonschema" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
imports="$work/imports.jsonl"
: > "$imports"

# Runs a stage; exit status 0 or 1 (some documents rejected) is fine, anything else stops the check.
stage() {
  local name="$1"; shift
  local status=0
  "$@" 2> "$work/stderr" || status=$?
  if [ "$status" -gt 1 ]; then
    cat "$work/stderr" >&2
    echo "schema-check: $name failed with exit status $status" >&2
    exit 1
  fi
}

fixtures=Tests/Fixtures/procore
stage "sov-emit (fixtures)" "$bin/sov-emit" --to procore --project-map "$fixtures/project-map.csv" \
  "$fixtures/canonical/bound-for-procore.jsonl" >> "$imports"

# The Spectrum samples, parse -> validate -> markup -> emit, one sov-parse per group of files so
# that contract headers and SOV lines in separate files are joined.
samples() {
  local group="$1"; shift
  [ $# -gt 0 ] || return 0
  local map=samples/project-map.csv
  local out="$work/$group"
  stage "sov-parse ($group samples)" "$bin/sov-parse" "$@" > "$out.parsed.jsonl"
  stage "sov-validate ($group samples)" "$bin/sov-validate" --project-map "$map" "$out.parsed.jsonl" > "$out.valid.jsonl"
  stage "sov-markup ($group samples)" "$bin/sov-markup" "$out.valid.jsonl" > "$out.marked.jsonl"
  stage "sov-emit ($group samples)" "$bin/sov-emit" --to procore --project-map "$map" "$out.marked.jsonl" > "$out.imports.jsonl"
  if [ ! -s "$out.imports.jsonl" ]; then
    echo "schema-check: the $group samples produced no Procore import objects" >&2
    exit 1
  fi
  cat "$out.imports.jsonl" >> "$imports"
}

shopt -s nullglob
csv=(samples/spectrum/*.csv)
xml=(samples/spectrum/*.xml)
# jobs.csv is a Windows-1252 export, as Spectrum on Windows writes them (samples/README.md).
samples csv --encoding windows-1252 "${csv[@]}"
samples xml "${xml[@]}"

# Updates: sov-run over the samples, then again after an SOV line's description and a change order
# line's amount changed; the second run writes PATCH requests, which must validate as well.
copy="$work/samples-copy"
cp -r samples "$copy"
stage "sov-run (first)" "$bin/sov-run" --config "$copy/sovbridge.toml" --ledger "$work/ledger.sqlite" --out "$work/run1" --quiet
sed -i 's/,24-1017,OWN100,05-100,Structural Steel,/,24-1017,OWN100,05-100,Structural steel and deck,/' "$copy/spectrum/sov.csv"
sed -i 's/,125.51,50,6275.50$/,125.51,50,6300.00/' "$copy/spectrum/change_orders.csv"
stage "sov-run (update)" "$bin/sov-run" --config "$copy/sovbridge.toml" --ledger "$work/ledger.sqlite" --out "$work/run2" --quiet
updates=("$work"/run2/*.json)
if [ "${#updates[@]}" -lt 2 ] || ! grep -q '"PATCH"' "${updates[@]}"; then
  echo "schema-check: the changed samples gave no Procore update (expected the contract and change order 001)" >&2
  exit 1
fi
cat "${updates[@]}" >> "$imports"

python3 scripts/validate_procore_bodies.py "$imports"
