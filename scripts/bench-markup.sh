#!/usr/bin/env bash
# Times sov-markup over 100,000 change orders (5 lines, 4 markups each) and prints
# "markup: N change orders/s". Usage: scripts/bench-markup.sh BIN_DIR [COUNT]
# The input is generated deterministically (fixed seed) as canonical JSON Lines; the output is
# checked to hold every change order with a computed block, so a broken stage cannot look fast.
set -euo pipefail

bin="${1:?usage: bench-markup.sh BIN_DIR [COUNT]}"
count="${2:-100000}"
tool="$bin/sov-markup"
[ -x "$tool" ] || { echo "bench-markup: $tool not found; build first (make release)" >&2; exit 66; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$count" >"$work/orders.jsonl" <<'PY'
import json, random, sys

count = int(sys.argv[1])
rng = random.Random(20260101)

def cents(units):
    sign = "-" if units < 0 else ""
    units = abs(units)
    return f"{sign}{units // 100}.{units % 100:02d}"

def percent(millionths):
    whole, fraction = divmod(millionths, 1_000_000)
    return f"{whole}.{fraction:06d}".rstrip("0").rstrip(".")

items = ["100", "200", "300", "400"]
for n in range(count):
    lines = []
    for i in range(5):
        # About one change order in ten is deductive.
        amount = rng.randint(-50_000_00, 250_000_00) if n % 10 else -rng.randint(1, 250_000_00)
        lines.append({"description": f"Line {i + 1}", "amount": cents(amount),
                      "associated_line": rng.choice(items), "cost_code": "01-100", "cost_type": "S"})
    markups = [
        {"name": "Insurance", "set": "horizontal", "percent": percent(rng.randint(0, 3_000_000)), "position": 1, "compound": "none"},
        {"name": "Bond", "set": "horizontal", "percent": percent(rng.randint(0, 2_000_000)), "position": 2, "compound": "above"},
        {"name": "Contractor's Fee", "set": "vertical", "percent": percent(rng.randint(0, 15_000_000)), "position": 1, "compound": "none"},
        {"name": "Tax", "set": "vertical", "percent": percent(rng.randint(0, 9_000_000)), "position": 2, "compound": ["Contractor's Fee"]},
    ]
    print(json.dumps({
        "kind": "change_order", "schema": 1,
        "origin": {"system": "spectrum", "company": "1", "job": f"24-{n % 997:04d}", "customer": "OWN100", "number": f"{n % 100000:05d}"},
        "source": {"file": "bench.jsonl", "line": n + 1},
        "number": f"{n % 100000:05d}", "title": f"Change order {n}", "status": "A", "approved": True,
        "date": "2026-01-15", "contract": {"company": "1", "job": f"24-{n % 997:04d}", "customer": "OWN100"},
        "currency": "USD", "lines": lines, "markups": markups, "diagnostics": [],
    }, separators=(",", ":")))
PY

start=$(date +%s%N)
"$tool" --quiet "$work/orders.jsonl" >"$work/marked.jsonl"
end=$(date +%s%N)

marked=$(grep -c '"computed":{' "$work/marked.jsonl" || true)
if [ "$marked" != "$count" ]; then
  echo "bench-markup: expected $count marked-up change orders, got $marked" >&2
  exit 1
fi
elapsed_ns=$((end - start))
[ "$elapsed_ns" -gt 0 ] || elapsed_ns=1
rate=$((count * 1000000000 / elapsed_ns))
seconds=$(awk -v ns="$elapsed_ns" 'BEGIN { printf "%.2f", ns / 1e9 }')
echo "markup: $rate change orders/s ($count in ${seconds}s)"
