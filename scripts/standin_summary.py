#!/usr/bin/env python3
"""make demo: what a stand-in holds, in a few lines. Usage: standin_summary.py procore|spectrum URL"""
import json
import sys
import urllib.request
from decimal import Decimal

kind, url = sys.argv[1], sys.argv[2]
with urllib.request.urlopen(url + "/__standin/state", timeout=10) as response:
    state = json.load(response)
if kind == "procore":
    for contract in state["prime_contracts"]:
        lines = contract["line_items"]
        total = sum(Decimal(line["amount"]) for line in lines)
        print(f"  prime contract {contract['id']} {contract['number']} (project {contract['project_id']}): "
              f"{len(lines)} SOV lines, {total}")
    for order in state["prime_change_orders"]:
        pco = (order.get("potential_change_orders") or [{}])[0]
        lines = pco.get("line_items", [])
        markups = ", ".join(f"{m['name']} {m['percentage']}%" for m in pco.get("markups", [])) or "none"
        print(f"  change order {order['number']} on prime contract {order['contract_id']}: {len(lines)} lines, "
              f"{sum(Decimal(line['amount']) for line in lines)} before markup; markups: {markups}")
else:
    for request in state.get("change_requests", []) + state.get("change_orders", []):
        estimates = sum(Decimal(e["Change_Request_Amount"] or "0") for e in request.get("estimates", []))
        revenue = sum(Decimal(b["CR_Revenue"] or "0") for b in request.get("billing", []))
        print(f"  change request {request['number']} on {request['company']}/{request['job']}/{request['customer']}: "
              f"{len(request.get('estimates', []))} estimate records ({estimates}), "
              f"{len(request.get('billing', []))} billing records (revenue {revenue})")
