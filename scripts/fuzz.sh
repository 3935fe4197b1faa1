#!/usr/bin/env bash
# make fuzz [FUZZ_SECONDS=N] [FUZZ_TARGETS="xml csv"] [FUZZ_PARALLEL=2]
#
# Builds each harness in Fuzz/<target>.swift with libFuzzer and AddressSanitizer against the
# real reader sources (SOVCore, SpectrumFormat, ProcoreFormat compiled as modules), seeds a corpus
# from samples/, Tests/Fixtures and Fuzz/seeds, and runs every target for N seconds (default 60).
# Findings (crash-, leak-, timeout-, oom- files) land in .build-fuzz/findings/<target>/; the
# script exits 1 when there is any. Logs: .build-fuzz/logs/<target>.log.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-${FUZZ_SECONDS:-60}}"
targets="${FUZZ_TARGETS:-xml csv numbers procore toml names}"
parallel="${FUZZ_PARALLEL:-1}"
root=.build-fuzz
flags=(-sanitize=fuzzer,address -parse-as-library -O -wmo -I "$root/mod")
xml_flags=(-I Sources/CLibXML2 -Xcc -I/usr/include/libxml2)

mkdir -p "$root/mod" "$root/obj" "$root/bin" "$root/logs" "$root/corpus" "$root/findings"

if ! echo 'func f() {}' | swiftc -sanitize=fuzzer,address -parse-as-library -emit-object -o /dev/null - 2>/dev/null; then
  echo "fuzz: this swiftc cannot build libFuzzer targets (-sanitize=fuzzer); use the Linux toolchain from swift.org" >&2
  exit 1
fi

# module NAME [extra swiftc flags...]: compiles Sources/NAME into a module and one object file,
# again only when a source is newer than the object.
module() {
  local name=$1; shift
  local object="$root/obj/$name.o"
  if [ -f "$object" ] && [ -z "$(find "Sources/$name" -name '*.swift' -newer "$object")" ] \
     && { [ "$name" = SOVCore ] || [ ! "$root/obj/SOVCore.o" -nt "$object" ]; }; then
    return
  fi
  echo "fuzz: compiling $name"
  swiftc "${flags[@]}" "$@" -module-name "$name" -emit-module -emit-module-path "$root/mod/$name.swiftmodule" \
    -c Sources/"$name"/*.swift -o "$object"
}
module SOVCore
module SpectrumFormat "${xml_flags[@]}"
module ProcoreFormat

for target in $targets; do
  [ -f "Fuzz/$target.swift" ] || { echo "fuzz: no harness Fuzz/$target.swift" >&2; exit 64; }
  echo "fuzz: building $target"
  # The linker's warnings about ASan's local symbols are noise; the log keeps them.
  # A harness may compile in a file of a module the script does not build (names: the drop
  # folder's FileSystem.swift in SOVFrontEnd, which needs only SOVCore).
  extra=()
  case "$target" in
    names) extra=(Sources/SOVFrontEnd/FileSystem.swift) ;;
  esac
  swiftc "${flags[@]}" "${xml_flags[@]}" -module-name "Fuzz_$target" Fuzz/"$target".swift Fuzz/Support/*.swift "${extra[@]}" \
    "$root"/obj/*.o -lxml2 -o "$root/bin/fuzz-$target" > "$root/logs/build-$target.log" 2>&1 \
    || { grep -v 'Cannot export local symbol' "$root/logs/build-$target.log" >&2; exit 1; }
done

# seed TARGET FILE [PREFIX-BYTE-OCTAL]: copies FILE into the target's corpus under its content hash.
seed() {
  local corpus="$root/corpus/$1" file=$2 prefix=${3:-}
  local tmp hash
  tmp=$(mktemp)
  { if [ -n "$prefix" ]; then printf "\\$prefix"; fi; cat "$file"; } > "$tmp"
  hash=$(sha1sum "$tmp" | cut -c1-16)
  mv "$tmp" "$corpus/seed-$hash"
}
for target in xml csv numbers procore toml names; do mkdir -p "$root/corpus/$target"; done
# Drop-folder names: the sample file names, one per input (NUL-separated with a few hostile ones).
for file in samples/* Tests/Fixtures/*/*; do
  name=$(basename "$file")
  printf '\001%s\000%s.done\000.%s\000%s.part' "$name" "$name" "$name" "$name" > "$root/corpus/names/seed-$(printf '%s' "$name" | sha1sum | cut -c1-16)"
done
printf '\001jobs-\351.csv\000x\376.jsonl\000%%41\000a.done.done' > "$root/corpus/names/seed-hostile"
inputs=$(find samples Tests/Fixtures -type f | sort)
for file in $inputs; do
  case "$file" in
    *.xml) seed xml "$file" ;;
    *.csv)
      # The first byte picks the options: 000 = comma, UTF-8; 004 = comma, Windows-1252;
      # 010 = comma, UTF-8, field counts checked.
      seed csv "$file" 000; seed csv "$file" 004; seed csv "$file" 010 ;;
    *.json|*.jsonl) seed procore "$file" ;;
  esac
done
# Inputs that once were findings stay in the corpus, so every run checks them again.
for folder in Fuzz/regressions/*/; do
  target=$(basename "$folder")
  for file in "$folder"*; do [ -f "$file" ] && seed "$target" "$file"; done
done
for file in Fuzz/seeds/numbers/* ; do seed numbers "$file"; done
for file in Fuzz/seeds/toml/*; do seed toml "$file"; done
# Numbers as they appear in the samples' amount, percent and date fields.
grep -rhoE '[-(]?[0-9][0-9,]*\.[0-9]+\)?|[0-9]{2}/[0-9]{2}/[0-9]{4}|[0-9]{4}-[0-9]{2}-[0-9]{2}' samples \
  | sort -u | awk 'NR <= 200' | while read -r value; do
    printf '%s' "$value" > "$root/corpus/numbers/sample-$(printf '%s' "$value" | sha1sum | cut -c1-16)"
  done

# The Swift runtime's backtracer reads stacks in ways ASan reports; libFuzzer's report is enough.
export SWIFT_BACKTRACE=enable=no

run() {
  local target=$1
  local findings="$root/findings/$target"
  # Findings are this run's; a fixed one lives on in Fuzz/regressions/.
  rm -rf "$findings"
  mkdir -p "$findings"
  local dict=()
  [ -f "Fuzz/dict/$target.dict" ] && dict=(-dict="Fuzz/dict/$target.dict")
  "$root/bin/fuzz-$target" "$root/corpus/$target" "${dict[@]}" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len=65536 \
    -artifact_prefix="$findings/" -print_final_stats=1 > "$root/logs/$target.log" 2>&1 || true
}

echo "fuzz: running $targets for ${seconds}s each, $parallel at a time (logs in $root/logs)"
running=0
for target in $targets; do
  run "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
# The harnesses hand each input to the readers as a file of their own (Fuzz/Support).
rm -f /dev/shm/sovbridge-fuzz-* /tmp/sovbridge-fuzz-*

status=0
printf "%-10s %12s %10s %8s %9s\n" target executions exec/s corpus findings
for target in $targets; do
  log="$root/logs/$target.log"
  runs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log" | tail -1)
  speed=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log" | tail -1)
  corpus=$(find "$root/corpus/$target" -type f | wc -l)
  found=$(find "$root/findings/$target" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf "%-10s %12s %10s %8s %9s\n" "$target" "${runs:-?}" "${speed:-?}" "$corpus" "$found"
  if [ "$found" -gt 0 ] || [ -z "$runs" ]; then status=1; fi
done
if [ "$status" -ne 0 ]; then
  echo "fuzz: findings (or a target that did not run) -- see $root/findings and $root/logs" >&2
fi
exit "$status"
