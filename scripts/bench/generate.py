#!/usr/bin/env python3
"""Deterministic synthetic Spectrum and Procore exports for `make bench`.

flat.xml  -- a SQL FOR XML flat contract export: 2,000 contracts x 100 SOV lines (~88 MB)
flat.csv  -- the same rows as CSV
pccos.jsonl -- 100,000 Procore PCCO export events (5 lines, 4 markups each), JSON Lines
project-map.csv -- maps every job, so validation passes
sov-lines.csv -- 300,000 SOV line records (3,000 contracts x 100) without their job header
    records: the Spectrum SOV line export given without jobs.csv. The parser holds such lines
    for the join until the last input, then rejects each contract's lines (FMT004)
"""
import json
import random
import sys
from pathlib import Path

CONTRACTS = 2000
LINES = 100
PCCOS = 100_000
# SOV line records (Billing_Item without a line amount column, so not a flat export) whose job
# header records never come: every one is held for the join until the end of the batch.
ORPHAN_CONTRACTS = 3000
ORPHAN_FIELDS = ["Company_Code", "Job_Number", "Customer_Code", "Billing_Item", "Billing_Description", "Original_Contract"]

FIELDS = ["Company_Code", "Job_Number", "Customer_Code", "Contract_Number", "Job_Description",
          "Price_Method_Code", "Original_Contract",
          "Billing_Item", "Billing_Description", "Item_Original_Contract"]

WORDS = ["Concrete", "Steel", "Masonry", "Drywall", "Roofing", "Electrical", "Plumbing", "HVAC",
         "Sitework", "Paving", "Glazing", "Painting", "Flooring", "Elevators", "Fire Protection"]


def rows(rng):
    for c in range(CONTRACTS):
        job = f"{20 + c // 1000:02d}-{c % 1000:04d}"
        customer = f"CUST{c % 97:03d}"
        amounts = [rng.randrange(100_00, 500_000_00) for _ in range(LINES)]
        total = sum(amounts)
        header = ["1", job, customer, f"PC-{job}", f"Project {job} {WORDS[c % 15]}"[:25],
                  "F", f"{total // 100}.{total % 100:02d}"]
        for i, amount in enumerate(amounts):
            yield header + [f"{i:02d}-{i * 7 % 1000:03d}", f"{WORDS[i % 15]} work package {i}"[:30],
                            f"{amount // 100}.{amount % 100:02d}"]


def xml_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main(out):
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "flat.xml", "w", encoding="utf-8") as xml, open(out / "flat.csv", "w", encoding="utf-8", newline="") as csv:
        xml.write('<?xml version="1.0" encoding="UTF-8"?>\n<rows>\n')
        csv.write(",".join(FIELDS) + "\r\n")
        for row in rows(random.Random(20261127)):
            xml.write("<row>" + "".join(f"<{f}>{xml_escape(v)}</{f}>" for f, v in zip(FIELDS, row)) + "</row>\n")
            csv.write(",".join(f'"{v}"' if "," in v else v for v in row) + "\r\n")
        xml.write("</rows>\n")
    with open(out / "project-map.csv", "w") as m:
        m.write("company,job,customer,project_id,prime_contract_id\n")
        for c in range(CONTRACTS):
            job = f"{20 + c // 1000:02d}-{c % 1000:04d}"
            m.write(f"1,{job},CUST{c % 97:03d},{100000 + c},{900000 + c}\n")
    orphans = random.Random(3)
    with open(out / "sov-lines.csv", "w", encoding="utf-8", newline="") as sov:
        sov.write(",".join(ORPHAN_FIELDS) + "\r\n")
        for c in range(ORPHAN_CONTRACTS):
            job = f"{40 + c // 1000:02d}-{c % 1000:04d}"
            for i in range(LINES):
                amount = orphans.randrange(100_00, 500_000_00)
                sov.write(f"1,{job},CUST{c % 97:03d},{i:02d}-{i * 7 % 1000:03d},{WORDS[i % 15]} work package {i},"
                          f"{amount // 100}.{amount % 100:02d}\r\n")
    rng = random.Random(7)
    with open(out / "pccos.jsonl", "w") as p:
        for n in range(PCCOS):
            c = n % CONTRACTS
            job = f"{20 + c // 1000:02d}-{c % 1000:04d}"
            items = []
            for i in range(5):
                amount = rng.randrange(-50_000_00, 200_000_00)
                items.append({
                    "id": n * 10 + i, "description": f"Change item {i}",
                    "total_amount": f"{amount / 100:.2f}",
                    "prime_line_item_origin_code": f"{i:02d}-{i * 7 % 1000:03d}",
                    "cost_code": {"full_code": f"{i:02d}-{100 + i}"}, "line_item_type": {"code": "S"},
                })
            markups = [
                {"name": "Insurance", "markup_set": "horizontal", "percentage": "1.25", "position": 1},
                {"name": "Bond", "markup_set": "horizontal", "percentage": "0.85", "position": 2},
                {"name": "Overhead", "markup_set": "vertical", "percentage": "5.0", "position": 1},
                {"name": "Fee", "markup_set": "vertical", "percentage": "3.5", "position": 2},
            ]
            event = {"event_type": "create_prime_contract_change_order", "request_data": {
                "project": {"id": 100000 + c, "origin_code": job},
                "prime_contract": {"id": 900000 + c},
                "prime_contract_change_order": {
                    "id": 5_000_000 + n, "contract_id": 900000 + c, "number": f"{n % 100_000_000:05d}",
                    "title": f"PCCO {n}", "description": "Owner-requested change", "status": "approved",
                    "erp_custom_fields": {"transaction_date": "2025-03-14"}, "executed": True},
                "prime_contract_change_order_items": items,
                "markups": markups}}
            p.write(json.dumps(event, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/data"))
