#!/usr/bin/env python3
"""The peer for CSV throughput: the program an integrator would write instead of sov-parse.

csv.DictReader over a flat contract export (the header repeated on each SOV line), rows grouped
by company, job and customer into one JSON object per contract (number, title, amounts as
Decimal strings, the lines), json.dumps per contract. The same job as sov-parse, so the
ratio `make bench` prints compares like with like.
"""
import csv
import json
import sys
from decimal import Decimal


def money(text):
    return str(Decimal(text.strip()).quantize(Decimal("0.01")))


def main(path):
    out = sys.stdout
    contract = None
    key = None
    with open(path, newline="", encoding="utf-8-sig") as source:
        for row in csv.DictReader(source):
            row_key = (row["Company_Code"].strip(), row["Job_Number"].strip(), row["Customer_Code"].strip())
            if row_key != key:
                if contract is not None:
                    out.write(json.dumps(contract) + "\n")
                key = row_key
                contract = {
                    "kind": "prime_contract",
                    "origin": {"company": key[0], "job": key[1], "customer": key[2]},
                    "number": row["Contract_Number"].strip(),
                    "title": row["Job_Description"].strip(),
                    "price_method": row["Price_Method_Code"].strip(),
                    "original_amount": money(row["Original_Contract"]),
                    "lines": [],
                }
            contract["lines"].append({
                "code": row["Billing_Item"].strip(),
                "description": row["Billing_Description"].strip(),
                "amount": money(row["Item_Original_Contract"]),
            })
    if contract is not None:
        out.write(json.dumps(contract) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
