#!/usr/bin/env bash
# make bench: throughput and peak memory of the release build on deterministic synthetic exports,
# measured against xmllint's streaming reader (the floor for libxml2) and a plain Python
# csv-to-JSON script. Each figure is the best of RUNS runs; RSS is the largest seen.
set -euo pipefail
bin="$1"
data="${BENCH_DATA:-out/bench-data}"
runs="${RUNS:-5}"
command -v xmllint >/dev/null || { echo "bench: xmllint missing (apt-get install -y libxml2-utils)" >&2; exit 1; }
if [ ! -f "$data/pccos.jsonl" ] || [ ! -f "$data/sov-lines.csv" ]; then
  echo "bench: generating synthetic exports in $data (deterministic)..."
  python3 scripts/bench/generate.py "$data"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME COMMAND...: sets SECONDS_BEST (and USER_BEST, the user CPU seconds of that run)
# and RSS_MAX_KB; stdout of the command is discarded.
# With SET_ASIDE (paths), what the last run left there is moved into $tmp/old before each run,
# outside the timing, and removed with $tmp at the end: deleting it is no part of the command's
# work, and on ext4 creating thousands of files just after thousands were deleted costs the
# kernel's inode allocator over a second (find_inode_bit passing recently deleted inodes, 50% of
# the samples), whichever program creates them.
set_aside_count=0
measure() {
  local name=$1; shift
  SECONDS_BEST=""; USER_BEST=""; RSS_MAX_KB=0
  for _ in $(seq "$runs"); do
    if [ -n "${SET_ASIDE:-}" ]; then
      set_aside_count=$((set_aside_count + 1))
      mkdir -p "$tmp/old/$set_aside_count"
      for path in $SET_ASIDE; do if [ -e "$path" ]; then mv "$path" "$tmp/old/$set_aside_count/"; fi; done
    fi
    /usr/bin/time -f "%e %M %U" -o "$tmp/time" bash -c "$*" >/dev/null 2>"$tmp/stderr" || {
      local status=$?
      # Exit status 1 (some documents rejected) is a normal outcome for a stage.
      if [ "$status" -gt 1 ]; then echo "bench: $name failed ($status):" >&2; cat "$tmp/stderr" >&2; exit 1; fi
    }
    read -r elapsed rss user < <(tail -n 1 "$tmp/time")
    if [ -z "$SECONDS_BEST" ] || awk "BEGIN{exit !($elapsed < $SECONDS_BEST)}"; then SECONDS_BEST=$elapsed; USER_BEST=$user; fi
    [ "$rss" -gt "$RSS_MAX_KB" ] && RSS_MAX_KB=$rss
  done
  SECONDS_BEST=$(awk "BEGIN{s=$SECONDS_BEST; if (s < 0.01) s = 0.01; print s}")
}
mb() { awk "BEGIN{printf \"%.1f\", $(stat -c %s "$1") / 1048576}"; }
rate() { awk "BEGIN{printf \"%.1f\", $1 / $2}"; }
# Ratios to two decimals: the targets are judged on them, and one decimal rounded 0.46x up to 0.5x.
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }

xml="$data/flat.xml"; csv="$data/flat.csv"; pccos="$data/pccos.jsonl"; map="$data/project-map.csv"
printf "SOVBridge benchmark (%s runs each, release build, %s cores)\n" "$runs" "$(nproc)"
printf "%-44s %9s %10s %9s %8s\n" "what" "seconds" "rate" "ratio" "peak RSS"

measure xmllint "xmllint --stream --noout '$xml'"; floor=$SECONDS_BEST; xmllint_seconds=$SECONDS_BEST
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "xmllint --stream --noout ($(mb "$xml") MB XML)" "$floor" "$(rate "$(mb "$xml")" "$floor")" "" $((RSS_MAX_KB / 1024))
measure sov-parse-xml "'$bin/sov-parse' '$xml'"
printf "%-44s %9s %7s MB/s %8sx %5d MB\n" "sov-parse, flat XML" "$SECONDS_BEST" "$(rate "$(mb "$xml")" "$SECONDS_BEST")" "$(ratio "$floor" "$SECONDS_BEST")" $((RSS_MAX_KB / 1024))
xml_ratio=$(ratio "$floor" "$SECONDS_BEST"); xml_rss=$((RSS_MAX_KB / 1024)); xml_seconds=$SECONDS_BEST

measure python-csv "python3 scripts/bench/csv_to_json.py '$csv'"; floor=$SECONDS_BEST; python_seconds=$SECONDS_BEST
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "python3 csv -> contracts ($(mb "$csv") MB CSV)" "$floor" "$(rate "$(mb "$csv")" "$floor")" "" $((RSS_MAX_KB / 1024))
measure sov-parse-csv "'$bin/sov-parse' '$csv'"
printf "%-44s %9s %7s MB/s %8sx %5d MB\n" "sov-parse, flat CSV" "$SECONDS_BEST" "$(rate "$(mb "$csv")" "$SECONDS_BEST")" "$(ratio "$floor" "$SECONDS_BEST")" $((RSS_MAX_KB / 1024))
csv_ratio=$(ratio "$floor" "$SECONDS_BEST"); csv_rss=$((RSS_MAX_KB / 1024)); csv_seconds=$SECONDS_BEST

count=$(wc -l < "$pccos")
measure sov-parse-procore "'$bin/sov-parse' '$pccos'"
printf "%-44s %9s %7s CO/s %9s %5d MB\n" "sov-parse, $count Procore PCCO events" "$SECONDS_BEST" "$(rate "$count" "$SECONDS_BEST")" "" $((RSS_MAX_KB / 1024))
"$bin/sov-parse" "$pccos" > "$tmp/pccos.canonical.jsonl" 2>/dev/null || [ $? -le 1 ]
measure sov-markup "'$bin/sov-markup' '$tmp/pccos.canonical.jsonl'"
printf "%-44s %9s %7s CO/s %9s %5d MB\n" "sov-markup, $count change orders (5 lines, 4 markups)" "$SECONDS_BEST" "$(rate "$count" "$SECONDS_BEST")" "" $((RSS_MAX_KB / 1024))

measure pipeline-xml "'$bin/sov-parse' '$xml' | '$bin/sov-validate' --project-map '$map' | '$bin/sov-markup' | '$bin/sov-emit' --to procore"
printf "%-44s %9s %7s MB/s %9s %5s\n" "pipeline XML -> Procore JSON (4 processes)" "$SECONDS_BEST" "$(rate "$(mb "$xml")" "$SECONDS_BEST")" "" "-"
measure pipeline-procore "'$bin/sov-parse' '$pccos' | '$bin/sov-validate' --project-map '$map' | '$bin/sov-markup' | '$bin/sov-emit' --to spectrum --project-map '$map'"
printf "%-44s %9s %7s CO/s %9s %5s\n" "pipeline Procore -> Spectrum XML (4 processes)" "$SECONDS_BEST" "$(rate "$count" "$SECONDS_BEST")" "" "-"
rm -f "$tmp/ledger.sqlite"
SET_ASIDE="$tmp/run $tmp/ledger.sqlite $tmp/ledger.sqlite-wal $tmp/ledger.sqlite-shm" measure sov-run "'$bin/sov-run' --project-map '$map' --ledger '$tmp/ledger.sqlite' --out '$tmp/run' '$xml'"
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "sov-run, flat XML -> Procore files + ledger" "$SECONDS_BEST" "$(rate "$(mb "$xml")" "$SECONDS_BEST")" "" $((RSS_MAX_KB / 1024))

# Issue 19's sov-run row: the CSV to --out on a new ledger, against sov-parse on the same file.
SET_ASIDE="$tmp/run $tmp/ledger.sqlite $tmp/ledger.sqlite-wal $tmp/ledger.sqlite-shm" measure sov-run-csv "'$bin/sov-run' --project-map '$map' --ledger '$tmp/ledger.sqlite' --out '$tmp/run' '$csv'"
run_seconds=$SECONDS_BEST; run_user=$USER_BEST; run_rss=$((RSS_MAX_KB / 1024))
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "sov-run, flat CSV -> Procore files + ledger" "$run_seconds" "$(rate "$(mb "$csv")" "$run_seconds")" "" "$run_rss"
# The floor under that row: the same files (names and sizes of the run's outbox) created, synced
# and renamed, and nothing else; what no change to sov-run's own work can go below on this disk.
unit_files=$(find "$tmp/run" -maxdepth 1 -type f | wc -l)
SET_ASIDE="$tmp/floor" measure files-floor "python3 scripts/bench/files_floor.py '$tmp/run' '$tmp/floor'"
floor_seconds=$SECONDS_BEST
printf "%-44s %9s %7s MB/s %9s %5s\n" "  its $unit_files files alone (create, sync, rename)" "$floor_seconds" "$(rate "$(du -sm "$tmp/run" | cut -f1)" "$floor_seconds")" "" "-"
# The same batch again, unchanged: every document skipped by its hash.
SET_ASIDE="$tmp/run2" measure sov-rerun-csv "'$bin/sov-run' --project-map '$map' --ledger '$tmp/ledger.sqlite' --out '$tmp/run2' '$csv'"
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "sov-run again, unchanged (all skipped)" "$SECONDS_BEST" "$(rate "$(mb "$csv")" "$SECONDS_BEST")" "" $((RSS_MAX_KB / 1024))

# Change orders wait for every contract of the batch: set aside on disk, so memory stays flat
# however many there are (20,000 Procore PCCO events, one run: it takes several seconds).
head -n 20000 "$pccos" > "$tmp/pccos-20k.jsonl"
saved_runs=$runs; runs=1
SET_ASIDE="$tmp/prun $tmp/pccos.sqlite $tmp/pccos.sqlite-wal $tmp/pccos.sqlite-shm" measure sov-run-pccos "'$bin/sov-run' --project-map '$map' --ledger '$tmp/pccos.sqlite' --out '$tmp/prun' '$tmp/pccos-20k.jsonl'"
runs=$saved_runs
printf "%-44s %9s %7s CO/s %9s %5d MB\n" "sov-run, 20000 PCCO events -> Spectrum + ledger" "$SECONDS_BEST" "$(rate 20000 "$SECONDS_BEST")" "" $((RSS_MAX_KB / 1024))
rm -rf "$tmp/prun" "$tmp/pccos.sqlite"*

# SOV line records whose job header never comes: held for the join, then rejected (FMT004).
sov="$data/sov-lines.csv"; sov_lines=$(($(wc -l < "$sov") - 1))
measure sov-parse-orphans "'$bin/sov-parse' --rejects '$tmp/orphans.rejects' '$sov'"
orphan_parse_rss=$((RSS_MAX_KB / 1024))
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "sov-parse, $sov_lines SOV lines without header" "$SECONDS_BEST" "$(rate "$(mb "$sov")" "$SECONDS_BEST")" "" "$orphan_parse_rss"
SET_ASIDE="$tmp/orun $tmp/orphans.sqlite $tmp/orphans.sqlite-wal $tmp/orphans.sqlite-shm" measure sov-run-orphans "'$bin/sov-run' --ledger '$tmp/orphans.sqlite' --out '$tmp/orun' --rejects '$tmp/orphans.rejects' '$sov'"
orphan_run_rss=$((RSS_MAX_KB / 1024))
printf "%-44s %9s %7s MB/s %9s %5d MB\n" "sov-run, $sov_lines SOV lines without header" "$SECONDS_BEST" "$(rate "$(mb "$sov")" "$SECONDS_BEST")" "" "$orphan_run_rss"

echo
verdict() { awk "BEGIN{exit !($1)}" && echo "met" || echo "NOT met"; }
parse_rss=$((xml_rss > csv_rss ? xml_rss : csv_rss))
run_ratio=$(ratio "$run_seconds" "$csv_seconds")
orphan_rss=$((orphan_parse_rss > orphan_run_rss ? orphan_parse_rss : orphan_run_rss))
echo "issue 19 targets (best of $runs; ratio: how many times the reference's speed, or for sov-run its wall over sov-parse's):"
printf "%-52s %-22s %-26s %8s %8s  %s\n" "what" "target" "measured" "ratio" "peak RSS" "verdict"
printf "%-52s %-22s %-26s %7sx %5d MB  %s\n" "sov-parse CSV against the Python peer" ">= 5x" "${csv_seconds}s vs ${python_seconds}s" "$csv_ratio" "$csv_rss" "$(verdict "$csv_ratio >= 5")"
printf "%-52s %-22s %-26s %7sx %5d MB  %s\n" "sov-parse XML against xmllint --stream --noout" ">= 0.8x" "${xml_seconds}s vs ${xmllint_seconds}s" "$xml_ratio" "$xml_rss" "$(verdict "$xml_ratio >= 0.8")"
printf "%-52s %-22s %-26s %8s %5d MB  %s\n" "sov-parse peak RSS (CSV and XML)" "<= 32 MB" "XML ${xml_rss} MB, CSV ${csv_rss} MB" "" "$parse_rss" "$(verdict "$parse_rss <= 32")"
printf "%-52s %-22s %-26s %7sx %5d MB  %s\n" "sov-run on the CSV to --out (wall / sov-parse's)" "<= 3x, <= 64 MB" "${run_seconds}s (user ${run_user}s)" "$run_ratio" "$run_rss" "$(verdict "$run_ratio <= 3 && $run_rss <= 64")"
printf "%-52s %-22s %-26s %7sx\n" "  its files alone, on this disk (floor / sov-parse's)" "" "${floor_seconds}s" "$(ratio "$floor_seconds" "$csv_seconds")"
printf "%-52s %-22s %-26s %8s %5d MB  %s\n" "SOV lines without header ($sov_lines), parse and run" "<= 64 MB" "parse ${orphan_parse_rss} MB, run ${orphan_run_rss} MB" "" "$orphan_rss" "$(verdict "$orphan_rss <= 64")"
