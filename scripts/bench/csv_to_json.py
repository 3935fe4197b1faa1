#!/usr/bin/env python3
"""The baseline for CSV throughput: a plain Python csv-to-JSON-Lines conversion."""
import csv
import json
import sys

with open(sys.argv[1], newline="", encoding="utf-8") as source:
    out = sys.stdout
    for row in csv.DictReader(source):
        out.write(json.dumps(row) + "\n")
