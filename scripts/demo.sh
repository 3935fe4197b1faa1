#!/usr/bin/env bash
# make demo: the real stages on samples/, both directions, then the batch runner with its ledger,
# then a drop folder.
# Rejections are part of the demo (the samples hold a unit-price contract and a pending change
# order), so exit status 1 from a stage is expected; anything worse stops the demo.
set -uo pipefail
bin="$1"
out="$2"
map=samples/project-map.csv
rm -rf "$out"
mkdir -p "$out"

step() { echo; echo "== $*"; }
ok_or_rejected() {
  local status=$1
  if [ "$status" -gt 1 ]; then echo "demo: a stage failed with exit status $status" >&2; exit "$status"; fi
}

step "Spectrum -> Procore: parse, validate, mark up, emit Procore import JSON"
"$bin/sov-parse" --encoding windows-1252 --rejects "$out/parse-rejects.jsonl" \
    samples/spectrum/jobs.csv samples/spectrum/sov.csv samples/spectrum/change_orders.csv \
  | "$bin/sov-validate" --project-map "$map" --rejects "$out/validate-rejects.jsonl" \
  | "$bin/sov-markup" --rejects "$out/markup-rejects.jsonl" \
  | "$bin/sov-emit" --to procore --project-map "$map" --out "$out/procore" --rejects "$out/emit-rejects.jsonl"
statuses=("${PIPESTATUS[@]}")
for s in "${statuses[@]}"; do ok_or_rejected "$s"; done

step "Spectrum XML (Data Exchange GetJobMain + FOR XML SOV rows) -> Procore"
"$bin/sov-parse" samples/spectrum/GetJobMain.xml samples/spectrum/sov-2040.xml \
  | "$bin/sov-validate" --project-map "$map" --rejects "$out/validate-xml-rejects.jsonl" \
  | "$bin/sov-emit" --to procore --project-map "$map" --out "$out/procore"
statuses=("${PIPESTATUS[@]}")
for s in "${statuses[@]}"; do ok_or_rejected "$s"; done

step "Spectrum exports saved from Excel (samples/excel: BOM, CRLF, \$ amounts, M/D/YYYY dates, blank rows, a ; variant), read with their profile"
"$bin/sov-parse" --profile samples/excel/profile.toml samples/excel/westside-clinic.csv samples/excel/hillside-library-semicolon.csv \
  | "$bin/sov-validate" --project-map "$map" \
  | "$bin/sov-emit" --to procore --project-map "$map" --out "$out/procore"
statuses=("${PIPESTATUS[@]}")
for s in "${statuses[@]}"; do ok_or_rejected "$s"; done

step "Procore PCCOs -> Spectrum AR change request XML"
"$bin/sov-parse" samples/procore/pcco-event.json samples/procore/pcco-package.json \
  | "$bin/sov-validate" --project-map "$map" --rejects "$out/validate-procore-rejects.jsonl" \
  | "$bin/sov-markup" \
  | "$bin/sov-emit" --to spectrum --project-map "$map" > "$out/spectrum-change-requests.xml"
statuses=("${PIPESTATUS[@]}")
for s in "${statuses[@]}"; do ok_or_rejected "$s"; done

step "The whole batch in one process, with a ledger and an HTML report (sov-run --config samples/sovbridge.toml)"
"$bin/sov-run" --config samples/sovbridge.toml --ledger "$out/ledger.sqlite" \
  --out "$out/run" --rejects "$out/run-rejects.jsonl" --report "$out/report.html"
ok_or_rejected $?
step "Run it again: the ledger says everything is exported already"
"$bin/sov-run" --config samples/sovbridge.toml --ledger "$out/ledger.sqlite" \
  --out "$out/run" --rejects "$out/run-rejects-2.jsonl"
ok_or_rejected $?

step "A drop folder: the Spectrum exports dropped as one folder (so headers and SOV lines join), the Procore events as files (sov-watch --once)"
mkdir -p "$out/drop/inbox"
cp -r samples/spectrum "$out/drop/inbox/spectrum-exports"
cp samples/procore/*.json "$out/drop/inbox/"
# Older than the watcher's 2-second settling time, as files dropped a while ago would be.
find "$out/drop/inbox" -exec touch -d '1 minute ago' {} +
"$bin/sov-watch" "$out/drop" --once --config samples/sovbridge.toml
ok_or_rejected $?

step "Deliver the batch's outbox (sov-push) to stand-ins of Procore and Spectrum Data Exchange on this machine"
# The stand-ins are test tools (tools/standins/) that model the documented behaviour of both
# systems on the loopback address; a real run names api.procore.com and the site's Data Exchange.
standins="$out/standins"
mkdir -p "$standins"
python3 tools/standins/procore_standin.py --port 0 --company-id 4264807 --max-lifetime 300 > "$standins/procore.url" 2> "$standins/procore.log" &
procore_pid=$!
python3 tools/standins/spectrum_standin.py --port 0 --authorization-id DEMO-AUTH-ID --max-lifetime 300 > "$standins/spectrum.url" 2> "$standins/spectrum.log" &
spectrum_pid=$!
trap 'kill $procore_pid $spectrum_pid 2>/dev/null' EXIT
for file in "$standins/procore.url" "$standins/spectrum.url"; do
  for _ in $(seq 100); do [ -s "$file" ] && break; sleep 0.1; done
done
procore_url="$(cut -d' ' -f2 < "$standins/procore.url")"
spectrum_url="$(cut -d' ' -f2 < "$standins/spectrum.url")"
PROCORE_CLIENT_SECRET=standin-secret SPECTRUM_AUTHORIZATION_ID=DEMO-AUTH-ID "$bin/sov-push" \
    --ledger "$out/ledger.sqlite" --report "$out/push-report.html" \
    --procore-api-url "$procore_url" --procore-login-url "$procore_url" \
    --procore-company-id 4264807 --procore-client-id standin-client --spectrum-dex-url "$spectrum_url"
status=$?
if [ "$status" -gt 1 ]; then echo "demo: sov-push failed with exit status $status" >&2; exit "$status"; fi
"$bin/sov-ledger" list --ledger "$out/ledger.sqlite"
echo
echo "What Procore now holds (the stand-in's state):"
python3 scripts/standin_summary.py procore "$procore_url"
echo "What Spectrum now holds (the stand-in's state):"
python3 scripts/standin_summary.py spectrum "$spectrum_url"
kill $procore_pid $spectrum_pid 2>/dev/null
trap - EXIT

echo
echo "Demo output is in $out/:"
echo "  procore/                        Procore import JSON, one file per document"
echo "  spectrum-change-requests.xml    Spectrum Data Exchange import (AR change requests)"
echo "  run/  report.html  ledger.sqlite   the batch runner's outbox units, report and ledger"
echo "  run/delivered/  push-report.html   units sov-push delivered to the stand-ins, and its report"
echo "  drop/                           the drop folder: outbox/, rejected/, archive/ and its own ledger"
echo "  *-rejects.jsonl                 every rejected document with its reasons"
