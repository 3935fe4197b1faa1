#!/usr/bin/env python3
"""Stand-in for Trimble Viewpoint Spectrum Data Exchange (SOAP), for tests only; never shipped.

Models /work/shared/reference/spectrum/DEX-TRANSPORT.md:
- SOAP 1.1 POST to /ws/ARChangeRequest and /ws/ARChangeOrder (§1, [3P] URL form), with
  `Content-Type: text/xml; charset=utf-8` and `SOAPAction: <full endpoint URL>`.
- Body element named after the method in namespace http://www.northgate-is.com/proiv/webservices/types,
  children Authorization_ID, GUID, then the layout fields in documented order (§2, §4.1, §4.2).
- One record per call (§2 "[inferred] send one record per call"): a body with several method
  elements is a SOAP Client fault here, so a client that batches records notices.
- Answers: returnArray/returnData/response rows with error_code/desc/column (§3, §6).
  A = Authorization_ID not set up; I = invalid value; M = missing value; G = good (success).
- GUID (§1.1): mandatory, <= 36; the Nth use of one method+Authorization_ID+GUID combination
  (--guid-timeout-after N) answers "Time out has occurred" and that combination stays expired.
- Key rules (§3, §4): Company+Job+Customer+number; an existing number is updated, a blank
  number auto-creates a new one; repeated line keys update the first matching line; blank
  fields are not updated.
- No Get service for change requests exists (§4.3), so none is offered here.

Decided by this stand-in (the document is silent; a real installation may differ):
- success answer = one G row naming the change request/order number;
- GUID timeout answer = an A row, column GUID, desc "Time out has occurred";
- wrong Content-Type -> HTTP 415; wrong SOAPAction, malformed XML, unknown or out-of-order
  elements, several records in one call -> HTTP 500 SOAP-ENV:Client fault;
- a Company_Code other than --company -> I on Company_Code.

Control API (no auth) under /__standin/: POST faults, GET state, GET requests, POST reset.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import socket
import sys
import threading
import xml.etree.ElementTree as ET
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NIS = "http://www.northgate-is.com/proiv/webservices/types"
MAX_BODY = 1 << 20  # one record is a few KB; anything larger is a client bug

NOT_AUTHORIZED = "The Web Service is not authorized. Authorization ID is not setup in the system."
TIME_OUT = "Time out has occurred"
FAULT_TEXT = "Error executing Web Service"


# Field kinds: ("t", max_len) text; ("d",) date MM/DD/CCYY; ("n", signed, int_digits, decimals);
# ("yn",) Y/N flag; ("set", "PER") one of the letters.
def t(n):
    return ("t", n)


D = ("d",)
YN = ("yn",)


def n(signed, ints, decs):
    return ("n", signed, ints, decs)


# §4.1, in documented order (after Authorization_ID and GUID).
CR_LAYOUT = [
    ("Company_Code", t(3)), ("Job_Number", t(10)), ("Customer_Code", t(10)),
    ("Change_Request_Number", t(8)), ("CR_Description", t(250)), ("CR_Status", t(2)),
    ("Cost_Reimbursable_Flag", YN), ("Origination_Date", D), ("Approved_Date", D),
    ("Fee_Percent", n(True, 3, 2)), ("Fee_Amount", n(True, 8, 2)),
    ("CR_Phase_Code", t(20)), ("CR_Cost_Type", t(3)),
    ("Change_Request_Quantity", n(True, 7, 2)), ("Change_Request_Hours", n(True, 6, 2)),
    ("Change_Request_Amount", n(True, 10, 2)),
    ("Subcontractor_Code", t(10)), ("Subcontract_Number", t(10)), ("Sub_Amount", n(True, 10, 2)),
    ("Sub_Bid_Group_Item_Code", t(2)), ("Sub_Bid_Item_Code", t(11)), ("Sub_Status", ("set", "PER")),
    ("Sub_Change_Order_Number", t(8)), ("Sub_Change_Order_Date", D), ("Sub_Signed_Date", D),
    ("Sub_Description", t(30)), ("Sub_Type", t(15)), ("Sub_Proposal_Date", D), ("Sub_Sent_Date", D),
    ("Sub_Due_Date", D), ("Sub_Comments", t(250)), ("Markup_Cost_Type", t(3)),
    ("Markup_Percent", n(False, 3, 2)), ("Markup_Amount", n(True, 10, 2)),
    ("Pricing_Addon_Code", t(10)), ("Pricing_Addon_MU_Percent", n(False, 3, 2)),
    ("Pricing_Addon_MU_Amount", n(True, 10, 2)), ("Pricing_Addon_Phase", t(20)),
    ("Pricing_Addon_Cost_Type", t(3)), ("CR_Billing_Group_Code", t(2)),
    ("CR_Billing_Item_Code", t(11)), ("CR_Billing_Item_Description", t(30)),
    ("CR_Additional_Description", t(40)), ("CR_Unit_Price", n(True, 5, 4)),
    ("CR_Quantity", n(True, 7, 2)), ("CR_Revenue", n(True, 10, 2)),
    ("Proceed_Submitted_Date", D), ("Proceed_Received_Date", D), ("Rough_Estimate", n(True, 8, 2)),
    ("Quotation_Submitted_Date", D), ("Quotation_Due_Date", D),
    ("Requested_Days", n(True, 4, 0)), ("Approved_Days", n(True, 4, 0)), ("Default_Billing_Total", YN),
]

# §4.2, in documented order.
CO_LAYOUT = [
    ("Company_Code", t(3)), ("Job_Number", t(10)), ("Customer_Code", t(10)),
    ("Change_Order_Number", t(8)), ("Description", t(250)), ("Status_Code", t(2)),
    ("Change_Order_Date", D), ("Approved_Date", D), ("Approved_Days", n(False, 4, 0)),
    ("Fee_Percent", n(False, 3, 2)), ("Fee_Amount", n(True, 8, 2)), ("Change_Request_Number", t(8)),
    ("CO_Billing_Group_Code", ("digits", 2)), ("CO_Billing_Item_Code", ("digits", 10)),
    ("Additional_Description", t(40)), ("Unit_Price", n(True, 5, 4)), ("Quantity", n(True, 7, 2)),
    ("Revenue", n(True, 10, 2)),
]

LAYOUTS = {"ARChangeRequest": CR_LAYOUT, "ARChangeOrder": CO_LAYOUT}
NUMBER_FIELD = {"ARChangeRequest": "Change_Request_Number", "ARChangeOrder": "Change_Order_Number"}
STATUS_FIELD = {"ARChangeRequest": "CR_Status", "ARChangeOrder": "Status_Code"}

CR_HEADER = ["CR_Description", "CR_Status", "Cost_Reimbursable_Flag", "Origination_Date", "Approved_Date",
             "Fee_Percent", "Fee_Amount", "Proceed_Submitted_Date", "Proceed_Received_Date", "Rough_Estimate",
             "Quotation_Submitted_Date", "Quotation_Due_Date", "Requested_Days", "Approved_Days",
             "Default_Billing_Total"]
CR_ESTIMATE_KEY = ["CR_Phase_Code", "CR_Cost_Type", "Subcontractor_Code", "Subcontract_Number",
                   "Sub_Bid_Group_Item_Code", "Sub_Bid_Item_Code"]
CR_ESTIMATE_VALUES = ["Change_Request_Quantity", "Change_Request_Hours", "Change_Request_Amount", "Sub_Amount",
                      "Sub_Status", "Sub_Change_Order_Number", "Sub_Change_Order_Date", "Sub_Signed_Date",
                      "Sub_Description", "Sub_Type", "Sub_Proposal_Date", "Sub_Sent_Date", "Sub_Due_Date",
                      "Sub_Comments", "Markup_Cost_Type", "Markup_Percent", "Markup_Amount",
                      "Pricing_Addon_Code", "Pricing_Addon_MU_Percent", "Pricing_Addon_MU_Amount",
                      "Pricing_Addon_Phase", "Pricing_Addon_Cost_Type"]
CR_BILLING_KEY = ["CR_Billing_Group_Code", "CR_Billing_Item_Code"]
CR_BILLING_VALUES = ["CR_Billing_Item_Description", "CR_Additional_Description", "CR_Unit_Price",
                     "CR_Quantity", "CR_Revenue"]
CO_HEADER = ["Description", "Status_Code", "Change_Order_Date", "Approved_Date", "Approved_Days",
             "Fee_Percent", "Fee_Amount", "Change_Request_Number"]
CO_BILLING_KEY = ["CO_Billing_Group_Code", "CO_Billing_Item_Code"]
CO_BILLING_VALUES = ["Additional_Description", "Unit_Price", "Quantity", "Revenue"]

DATE_RE = re.compile(r"^(0[1-9]|1[0-2])/(0[1-9]|[12][0-9]|3[01])/[0-9]{4}$")


class SoapClientError(Exception):
    """The request cannot be read as this method's envelope (answered as a SOAP Client fault)."""


def check_value(name, kind, value):
    """Returns None when `value` fits the layout's kind, else the `desc` of an I answer."""
    tag = kind[0]
    if tag == "t":
        if len(value) > kind[1]:
            return f"{name} exceeds the maximum length of {kind[1]}"
        return None
    if tag == "d":
        return None if DATE_RE.match(value) else f"{name} is not a valid date (MM/DD/CCYY)"
    if tag == "yn":
        return None if value in ("Y", "N") else f"{name} must be Y or N"
    if tag == "set":
        return None if len(value) == 1 and value in kind[1] else f"{name} must be one of {', '.join(kind[1])}"
    if tag == "digits":
        return None if value.isdigit() and len(value) <= kind[1] else f"{name} must be numeric, at most {kind[1]} digits"
    _, signed, ints, decs = kind
    sign = "-?" if signed else ""
    frac = rf"(\.[0-9]{{1,{decs}}})?" if decs else ""
    if re.fullmatch(rf"{sign}[0-9]{{1,{ints}}}{frac}", value) or (decs and re.fullmatch(rf"{sign}\.[0-9]{{1,{decs}}}", value)):
        return None
    return f"{name} is not a valid number (format {'-' if signed else ''}{ints}.{decs})"


def money_text(value):
    """Amounts are kept as exact decimal text with two places (never floats)."""
    if value == "":
        return value
    return str(Decimal(value).quantize(Decimal("0.01")))


class Store:
    """All mutable state, behind one lock (ThreadingHTTPServer runs handlers concurrently)."""

    def __init__(self, authorization_id, company, guid_timeout_after):
        self.lock = threading.Lock()
        self.authorization_id = authorization_id
        self.company = company
        self.guid_timeout_after = guid_timeout_after
        self.reset()

    def reset(self):
        self.change_requests = {}   # (company, job, customer, number) -> dict
        self.change_orders = {}
        self.guid_uses = {}         # (method, guid) -> uses; the valid Authorization_ID is implied
        self.expired_guids = set()
        self.requests = []
        self.faults = {}
        self.soap_calls = 0         # counts SOAP POSTs since faults were last set, for every_nth_*
        self.lose_plan = []         # remaining [skip, count] entries
        self.auto_number = 0

    def set_faults(self, spec):
        self.faults = spec
        self.soap_calls = 0
        self.lose_plan = [[int(e.get("skip", 0)), int(e["count"])] for e in spec.get("lose_response", [])]

    def next_fault(self):
        """Decides, per SOAP call, which injected failure (if any) applies: '500', 'fault', 'lose' or None."""
        self.soap_calls += 1
        n500 = self.faults.get("every_nth_500")
        if n500 and self.soap_calls % int(n500) == 0:
            return "500"
        nfault = self.faults.get("every_nth_fault")
        if nfault and self.soap_calls % int(nfault) == 0:
            return "fault"
        while self.lose_plan:
            entry = self.lose_plan[0]
            if entry[0] > 0:
                entry[0] -= 1
                return None
            if entry[1] > 0:
                entry[1] -= 1
                if entry[1] == 0:
                    self.lose_plan.pop(0)
                return "lose"
            self.lose_plan.pop(0)
        return None

    def refusal_message(self, number):
        for item in self.faults.get("refuse_numbers", []):
            if isinstance(item, dict):
                if item.get("number") == number:
                    return item.get("column", NUMBER_FIELD["ARChangeRequest"]), item.get("desc")
            elif item == number:
                return None, None
        return False

    def snapshot(self):
        def render(store):
            return [dict(entry) for _, entry in sorted(store.items())]
        return {"change_requests": render(self.change_requests), "change_orders": render(self.change_orders)}


def parse_envelope(body, method):
    """Returns the record as an ordered list of (name, text); raises SoapClientError."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise SoapClientError("DOCTYPE is not allowed")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise SoapClientError(f"malformed XML: {error}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        raise SoapClientError("root element is not a SOAP 1.1 Envelope")
    bodies = [c for c in root if c.tag == f"{{{SOAP_ENV}}}Body"]
    if len(bodies) != 1:
        raise SoapClientError("expected one SOAP Body")
    calls = list(bodies[0])
    if len(calls) != 1:
        raise SoapClientError(f"expected exactly one {method} element in the Body, got {len(calls)}")
    call = calls[0]
    if call.tag != f"{{{NIS}}}{method}":
        raise SoapClientError(f"Body element must be {{{NIS}}}{method}")
    fields = []
    for child in call:
        if not child.tag.startswith(f"{{{NIS}}}"):
            raise SoapClientError(f"element {child.tag} is not in the {NIS} namespace")
        if len(child):
            raise SoapClientError(f"element {child.tag} must hold text only")
        fields.append((child.tag[len(NIS) + 2:], (child.text or "")))
    order = ["Authorization_ID", "GUID"] + [name for name, _ in LAYOUTS[method]]
    position = -1
    for name, _ in fields:
        if name not in order:
            raise SoapClientError(f"unknown element {name}")
        index = order.index(name)
        if index <= position:
            raise SoapClientError(f"element {name} is out of the documented order or repeated")
        position = index
    return fields


def validate(method, record, store, existing):
    """Returns a list of (code, desc, column) problems for one record; empty = acceptable."""
    problems = []
    for name in ("Company_Code", "Job_Number", "Customer_Code"):
        if record.get(name, "") == "":
            problems.append(("M", f"{name} is required", name))
    status = STATUS_FIELD[method]
    if existing is None and record.get(status, "") == "":
        problems.append(("M", f"{status} is required for a new record", status))
    for name, kind in LAYOUTS[method]:
        value = record.get(name, "")
        if value == "":
            continue
        message = check_value(name, kind, value)
        if message:
            problems.append(("I", message, name))
    if method == "ARChangeRequest":
        for name in ("CR_Phase_Code", "Pricing_Addon_Phase"):
            if "-" in record.get(name, ""):
                problems.append(("I", f"{name} must not contain dashes", name))
    company = record.get("Company_Code", "")
    if company and company != store.company:
        problems.append(("I", f"Company {company} is not valid for this Authorization ID", "Company_Code"))
    return problems


def apply_record(method, record, store):
    """Creates or updates the keyed record; returns (number, created)."""
    number_field = NUMBER_FIELD[method]
    number = record.get(number_field, "")
    if number == "":
        # §3: a blank number auto-creates a new one on every call.
        store.auto_number += 1
        number = f"A{store.auto_number:07d}"
    key = (record["Company_Code"], record["Job_Number"], record["Customer_Code"], number)
    table = store.change_requests if method == "ARChangeRequest" else store.change_orders
    entry = table.get(key)
    created = entry is None
    if created:
        entry = {"company": key[0], "job": key[1], "customer": key[2], "number": number,
                 "header": {}, "records_applied": 0}
        if method == "ARChangeRequest":
            entry["estimates"] = []
        entry["billing"] = []
        table[key] = entry
    entry["records_applied"] += 1
    header = CR_HEADER if method == "ARChangeRequest" else CO_HEADER
    for name in header:
        if record.get(name, "") != "":   # blank fields are not updated (§2)
            entry["header"][name] = record[name]
    if method == "ARChangeRequest":
        upsert_line(entry["estimates"], record, CR_ESTIMATE_KEY, CR_ESTIMATE_VALUES, "CR_Phase_Code",
                    {"Change_Request_Amount", "Sub_Amount", "Markup_Amount", "Pricing_Addon_MU_Amount"})
        upsert_line(entry["billing"], record, CR_BILLING_KEY, CR_BILLING_VALUES, "CR_Billing_Item_Code",
                    {"CR_Revenue"})
    else:
        upsert_line(entry["billing"], record, CO_BILLING_KEY, CO_BILLING_VALUES, "CO_Billing_Item_Code",
                    {"Revenue"})
    return number, created


def upsert_line(lines, record, key_fields, value_fields, present_field, money_fields):
    """Updates the first line with the same key (as Spectrum does with duplicates), else appends."""
    if record.get(present_field, "") == "":
        return
    key = {name: record.get(name, "") for name in key_fields}
    target = next((line for line in lines if all(line.get(k, "") == v for k, v in key.items())), None)
    if target is None:
        target = dict(key)
        lines.append(target)
    for name in value_fields:
        value = record.get(name, "")
        if value != "":
            target[name] = money_text(value) if name in money_fields else value


def response_xml(method, rows):
    items = "".join(
        "<response><error_code>{}</error_code><desc>{}</desc><column>{}</column></response>".format(
            escape(code), escape(desc), escape(column or "")) for code, desc, column in rows)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<SOAP-ENV:Envelope SOAP-ENV:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/" '
        f'xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<SOAP-ENV:Header/><SOAP-ENV:Body>"
        f'<nis:{method}Response xmlns:nis="{NIS}"><returnArray><returnData>{items}</returnData></returnArray>'
        f"</nis:{method}Response></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode("utf-8")


def fault_xml(code, text):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}"><SOAP-ENV:Body><SOAP-ENV:Fault>'
        f"<faultcode>SOAP-ENV:{code}</faultcode><faultstring>{escape(text)}</faultstring>"
        "</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    ).encode("utf-8")


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real SOAP server offers
    server_version = "SpectrumStandIn/1"

    def log_message(self, format, *args):  # quiet: tests read /__standin/requests instead
        pass

    @property
    def store(self) -> Store:
        return self.server.store

    def send(self, status, body, content_type="text/xml; charset=utf-8"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, value):
        self.send(status, json.dumps(value, indent=1).encode("utf-8"), "application/json")

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # libcurl streams a re-sent POST body chunked; a real server accepts that too.
            body = b""
            while True:
                size = int(self.rfile.readline(100).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return body
                if len(body) + size > MAX_BODY:
                    raise ValueError("body too large")
                body += self.rfile.read(size)
                self.rfile.readline(10)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise ValueError("body too large")
        return self.rfile.read(length)

    def do_GET(self):
        if self.path == "/__standin/state":
            with self.store.lock:
                self.send_json(200, self.store.snapshot())
        elif self.path == "/__standin/requests":
            with self.store.lock:
                self.send_json(200, list(self.store.requests))
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        try:
            body = self.read_body()
        except ValueError:
            self.send_json(413, {"error": "body too large"})
            return
        if self.path == "/__standin/faults":
            try:
                spec = json.loads(body or b"{}")
                if not isinstance(spec, dict):
                    raise ValueError("expected an object")
                with self.store.lock:
                    self.store.set_faults(spec)
            except (ValueError, KeyError, TypeError) as error:
                self.send_json(400, {"error": str(error)})
                return
            self.send_json(200, {"ok": True})
        elif self.path == "/__standin/reset":
            with self.store.lock:
                self.store.reset()
            self.send_json(200, {"ok": True})
        elif self.path.startswith("/ws/") and self.path[4:] in LAYOUTS:
            self.soap(self.path[4:], body)
        else:
            self.send_json(404, {"error": "not found"})

    def soap(self, method, body):
        store = self.store
        log = {"service": method, "guid": None, "records": 0, "answer": None}
        with store.lock:
            store.requests.append(log)
            injected = store.next_fault()
        content_type = (self.headers.get("Content-Type") or "").replace(" ", "").lower()
        if content_type != "text/xml;charset=utf-8":
            log["answer"] = "415"
            self.send(415, b"Content-Type must be text/xml; charset=utf-8", "text/plain")
            return
        action = (self.headers.get("SOAPAction") or "").strip().strip('"')
        if not re.fullmatch(rf"https?://[^/]+/ws/{method}", action):
            log["answer"] = "fault:Client"
            self.send(500, fault_xml("Client", f"SOAPAction must be the endpoint URL .../ws/{method}"))
            return
        if injected == "500":
            log["answer"] = "500"
            self.send(500, b"Internal Server Error", "text/plain")
            return
        if injected == "fault":
            log["answer"] = "fault:Server"
            self.send(500, fault_xml("Server", FAULT_TEXT))
            return
        try:
            fields = parse_envelope(body, method)
        except SoapClientError as error:
            log["answer"] = "fault:Client"
            log["detail"] = f"{error} ({len(body)} bytes)"
            self.send(500, fault_xml("Client", str(error)))
            return
        record = dict(fields)
        log["guid"] = record.get("GUID")
        log["records"] = 1
        log["number"] = record.get(NUMBER_FIELD[method])
        rows = self.answer(method, record)
        log["answer"] = ",".join(code for code, _, _ in rows)
        if injected == "lose":
            # The record is committed; the client never hears so (connection closed, no bytes).
            log["answer"] += ":lost"
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send(200, response_xml(method, rows))

    def answer(self, method, record):
        store = self.store
        auth = record.get("Authorization_ID", "")
        if auth != store.authorization_id:
            return [("A", NOT_AUTHORIZED, "Authorization_ID")]
        guid = record.get("GUID", "")
        if guid == "":
            return [("M", "GUID is required", "GUID")]
        if len(guid) > 36:
            return [("I", "GUID exceeds the maximum length of 36", "GUID")]
        with store.lock:
            combo = (method, guid)
            if combo in store.expired_guids:
                return [("A", TIME_OUT, "GUID")]
            store.guid_uses[combo] = store.guid_uses.get(combo, 0) + 1
            if store.guid_timeout_after and store.guid_uses[combo] >= store.guid_timeout_after:
                store.expired_guids.add(combo)
                return [("A", TIME_OUT, "GUID")]
            number = record.get(NUMBER_FIELD[method], "")
            key = (record.get("Company_Code", ""), record.get("Job_Number", ""),
                   record.get("Customer_Code", ""), number)
            table = store.change_requests if method == "ARChangeRequest" else store.change_orders
            existing = table.get(key) if number else None
            problems = validate(method, record, store, existing)
            if method == "ARChangeOrder" and record.get("Change_Request_Number"):
                cr_key = key[:3] + (record["Change_Request_Number"],)
                if cr_key not in store.change_requests:
                    problems.append(("I", "Change request does not exist", "Change_Request_Number"))
            refusal = store.refusal_message(number) if number else False
            if refusal is not False:
                column, desc = refusal
                problems.append(("I", desc or f"Change request {number} cannot be updated: it is closed",
                                 column or NUMBER_FIELD[method]))
            if problems:
                return problems
            number, created = apply_record(method, record, store)
        noun = "Change request" if method == "ARChangeRequest" else "Change order"
        return [("G", f"{noun} {number} {'created' if created else 'updated'}", NUMBER_FIELD[method])]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--authorization-id", required=True)
    parser.add_argument("--company", default="1")
    parser.add_argument("--guid-timeout-after", type=int, default=0)
    parser.add_argument("--max-lifetime", type=float, default=600.0)
    args = parser.parse_args(argv)

    server = Server(("127.0.0.1", args.port), Handler)
    server.store = Store(args.authorization_id, args.company, args.guid_timeout_after)
    stop = threading.Event()
    # A parent may spawn us with SIGTERM blocked (seen under Foundation's Process on Linux);
    # unblock it, or a test's stop() would wait for its SIGKILL fallback.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    print(f"listening http://127.0.0.1:{server.server_address[1]}", flush=True)
    # Bounded life: a test that forgets to stop us does not leave a server behind.
    stop.wait(timeout=args.max_lifetime)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
