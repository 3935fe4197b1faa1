#!/usr/bin/env python3
"""Procore stand-in: a local HTTP server that behaves like the parts of Procore's REST API that
SOVBridge delivers to (shared/reference/procore/DELIVERY.md). A test tool, never shipped.

Usage: procore_standin.py [--port 0] [--schemas DIR] [--client-id ID] [--client-secret S]
                          [--company-id 1] [--token-lifetime 5400] [--rate-limit 1000]
                          [--rate-window 10] [--max-lifetime 600]

Prints exactly one line "listening http://127.0.0.1:PORT" on stdout once it accepts calls.
Exits on SIGTERM/SIGINT, or by itself after --max-lifetime seconds so a forgotten one never lingers.

Control API (no auth), under /__standin/:
  POST /__standin/faults        {"every_nth_429": N, "every_nth_503": N, "retry_after": S,
                                 "lose_response": [{"method", "path_regex", "count"}],
                                 "expire_tokens": true, "expire_tokens_at_call": N,
                                 "fail_status": [{"method", "path_regex", "status", "count", "body"}]}
                                (replaces the faults in force and restarts the call count)
  GET  /__standin/state         everything held, as JSON
  GET  /__standin/requests      log of API calls: [{method, path, query, status}] (status 0 = response lost)
  POST /__standin/erp_requests  {"<id>": <ERP Request payload>, ...}
  POST /__standin/reset         forget everything (state, log, faults, tokens)
"""

import argparse
import copy
import json
import os
import re
import secrets
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

try:
    import jsonschema
except ImportError:
    sys.exit("procore_standin: the jsonschema module is missing; run scripts/setup.sh")

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/rest/[^\s]+)")


def default_schema_dir():
    """$PROCORE_SCHEMA_DIR, else shared/reference/procore in the nearest folder above this script
    (symlinks resolved) that has one."""
    explicit = os.environ.get("PROCORE_SCHEMA_DIR")
    if explicit:
        return explicit
    folder = os.path.dirname(os.path.realpath(__file__))
    while True:
        candidate = os.path.join(folder, "shared", "reference", "procore")
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def strict(schema):
    """Object schemas that list properties allow no others, so a misspelt field is refused
    (real Procore ignores it silently, which would hide the mistake)."""
    schema = copy.deepcopy(schema)

    def visit(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schema)
    return schema


class Schemas:
    """Request validators matched by the "METHOD /rest/..." each schema's $comment names, as in
    scripts/validate_procore_bodies.py; a PATCH/PUT at a create's path plus an id uses the create's."""

    def __init__(self, folder):
        self.routes = []
        self.pco_line = None
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".request.schema.json"):
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                schema = json.load(handle)
            found = ENDPOINT.search(schema.get("$comment", ""))
            if not found:
                continue
            method, template = found.groups()
            pattern = "^" + "/".join(
                r"[^/]+" if PLACEHOLDER.fullmatch(part) else re.escape(part) for part in template.split("/")) + "$"
            validator = jsonschema.Draft202012Validator(strict(schema), format_checker=checker)
            self.routes.append((method, re.compile(pattern), name, validator))
            if method == "POST":
                self.routes.append(("PATCH", re.compile(pattern[:-1] + r"/[0-9]+$"), name, validator))
            if method == "PATCH" and "erp_request_details" in template:
                self.routes.append(("PUT", re.compile(pattern), name, validator))
            if name.startswith("change_order_line_item.create"):
                # No schema is published for the PCO line sync; its items take the create's fields.
                item = strict(schema)["properties"]["line_item"]
                self.pco_line = jsonschema.Draft202012Validator(
                    {"type": "object", "required": ["updates"], "additionalProperties": False,
                     "properties": {"updates": {"type": "array", "maxItems": 1000, "items": item}}},
                    format_checker=checker)

    def errors(self, method, path, body):
        """{location: [messages]} for a body that fails its schema; {} when valid or unmatched."""
        validator = None
        for route_method, pattern, _, candidate in self.routes:
            if route_method == method and pattern.match(path):
                validator = candidate
                break
        if validator is None and method == "PATCH" and re.match(r"^/rest/v1\.0/potential_change_orders/[0-9]+/line_items/sync$", path):
            validator = self.pco_line
        if validator is None:
            return {}
        found = {}
        for error in validator.iter_errors(body):
            location = ".".join(str(part) for part in error.absolute_path) or "base"
            found.setdefault(location, []).append(error.message)
        return found


class HTTPError(Exception):
    def __init__(self, status, body, headers=None):
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


class Store:
    """Everything the stand-in holds. One lock: calls are handled one at a time, like a
    serializable database, so tests see a consistent order."""

    def __init__(self, options, schemas):
        self.options = options
        self.schemas = schemas
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.next_id = 1001
        self.tokens = {}
        self.prime_contracts = {}
        self.line_items = {}
        self.prime_change_orders = {}
        self.pcos = {}
        self.markups = {}
        self.external_data = {}
        self.request_details = {}
        self.erp_requests = {}
        self.log = []
        self.set_faults({})
        self.window_start = time.time()
        self.window_count = 0

    def set_faults(self, faults):
        self.faults = {
            "every_nth_429": int(faults.get("every_nth_429") or 0),
            "every_nth_503": int(faults.get("every_nth_503") or 0),
            "retry_after": faults.get("retry_after", 1),
            "lose_response": [dict(item, count=int(item.get("count", 1))) for item in faults.get("lose_response", [])],
            "fail_status": [dict(item, count=int(item.get("count", 1))) for item in faults.get("fail_status", [])],
            "expire_tokens_at_call": int(faults.get("expire_tokens_at_call") or 0),
        }
        self.call_count = 0
        if faults.get("expire_tokens"):
            self.expire_tokens()

    def expire_tokens(self):
        for token in self.tokens:
            self.tokens[token] = 0

    def new_id(self):
        value = self.next_id
        self.next_id += 1
        return value

    def state(self):
        contracts = []
        for contract in self.prime_contracts.values():
            item = dict(contract)
            item["line_items"] = [self.line_items[i] for i in contract["line_item_ids"]]
            del item["line_item_ids"]
            contracts.append(item)
        change_orders = []
        for order in self.prime_change_orders.values():
            item = dict(order)
            item["potential_change_orders"] = []
            for pco_id in order["pco_ids"]:
                pco = dict(self.pcos[pco_id])
                pco["line_items"] = [self.line_items[i] for i in pco["line_item_ids"]]
                del pco["line_item_ids"]
                pco["markups"] = [m for m in self.markups.values() if m["holder_type"] == "PotentialChangeOrder" and m["holder_id"] == pco_id]
                item["potential_change_orders"].append(pco)
            del item["pco_ids"]
            change_orders.append(item)
        return {
            "prime_contracts": contracts,
            "prime_change_orders": change_orders,
            "markups": list(self.markups.values()),
            "external_data": list(self.external_data.values()),
            "request_details": list(self.request_details.values()),
            "erp_requests": self.erp_requests,
        }


def is_positive_int(text):
    return isinstance(text, str) and text.isdigit() and int(text) > 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ProcoreStandIn/1"

    def log_message(self, *args):
        pass  # stdout carries only the "listening" line; the request log is in /__standin/requests

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")

    # -- plumbing ---------------------------------------------------------------------------

    def handle_any(self, method):
        store = self.server.store
        parts = urlsplit(self.path)
        path = parts.path
        query = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if path.startswith("/__standin/"):
            with store.lock:
                try:
                    status, body = self.control(store, method, path, raw)
                except HTTPError as error:
                    status, body = error.status, error.body
            self.respond(status, body)
            return
        with store.lock:
            status, body, headers, lose = self.api(store, method, path, query, raw)
            store.log.append({"method": method, "path": path, "query": query, "status": 0 if lose else status})
        if lose:
            # The write is committed; the caller never learns it. Close without a byte.
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.respond(status, body, headers)

    def respond(self, status, body, headers=None):
        data = b"" if body is None else json.dumps(body).encode("utf-8")
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def rate_headers(self, store):
        now = time.time()
        options = store.options
        if now >= store.window_start + options.rate_window:
            store.window_start = now
            store.window_count = 0
        store.window_count += 1
        reset = int(store.window_start + options.rate_window) + 1
        remaining = max(0, options.rate_limit - store.window_count)
        headers = {"X-Rate-Limit-Limit": options.rate_limit, "X-Rate-Limit-Remaining": remaining, "X-Rate-Limit-Reset": reset}
        return headers, store.window_count > options.rate_limit, reset - now

    def api(self, store, method, path, query, raw):
        """(status, body, headers, lose_response) for one API call."""
        headers, over, wait = self.rate_headers(store)
        store.call_count += 1
        faults = store.faults
        if faults["expire_tokens_at_call"] and store.call_count == faults["expire_tokens_at_call"]:
            store.expire_tokens()
        if over:
            headers["Retry-After"] = max(1, int(wait + 0.999))
            return 429, {"errors": "Rate limit exceeded"}, headers, False
        if faults["every_nth_429"] and store.call_count % faults["every_nth_429"] == 0:
            headers["Retry-After"] = faults["retry_after"]
            return 429, {"errors": "Rate limit exceeded"}, headers, False
        if faults["every_nth_503"] and store.call_count % faults["every_nth_503"] == 0:
            headers["Retry-After"] = faults["retry_after"]
            return 503, {"errors": "Service Unavailable"}, headers, False
        for rule in faults["fail_status"]:
            if rule["count"] > 0 and rule.get("method", method) == method and re.search(rule.get("path_regex", ""), path):
                rule["count"] -= 1
                return int(rule.get("status", 422)), rule.get("body", {"errors": "injected failure"}), headers, False
        try:
            result = self.route(store, method, path, query, raw)
            status, body = result[0], result[1]
            if len(result) > 2:
                headers.update(result[2])
        except HTTPError as error:
            headers.update(error.headers)
            return error.status, error.body, headers, False
        lose = False
        if 200 <= status < 300:
            for rule in faults["lose_response"]:
                if rule["count"] > 0 and rule.get("method", method) == method and re.search(rule.get("path_regex", ""), path):
                    rule["count"] -= 1
                    lose = True
                    break
        return status, body, headers, lose

    def json_body(self, raw):
        try:
            return json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise HTTPError(400, {"errors": f"malformed JSON: {error}"})

    # -- control API ------------------------------------------------------------------------

    def control(self, store, method, path, raw):
        if method == "POST" and path == "/__standin/faults":
            store.set_faults(self.json_body(raw))
            return 200, {"faults": store.faults}
        if method == "GET" and path == "/__standin/state":
            return 200, store.state()
        if method == "GET" and path == "/__standin/requests":
            return 200, store.log
        if method == "POST" and path == "/__standin/erp_requests":
            loaded = self.json_body(raw)
            if not isinstance(loaded, dict):
                raise HTTPError(400, {"errors": "expected {id: payload}"})
            store.erp_requests.update({str(key): value for key, value in loaded.items()})
            return 200, {"loaded": sorted(loaded)}
        if method == "POST" and path == "/__standin/reset":
            store.reset()
            return 200, {"reset": True}
        raise HTTPError(404, {"errors": f"no control endpoint {method} {path}"})

    # -- Procore API ------------------------------------------------------------------------

    def route(self, store, method, path, query, raw):
        """(status, body) or (status, body, extra headers)."""
        if path == "/oauth/token":
            if method != "POST":
                raise HTTPError(404, {"errors": "Not Found"})
            return self.token(store, raw)
        if not path.startswith("/rest/"):
            raise HTTPError(404, {"errors": "Not Found"})
        self.authorize(store)
        body = None
        if method in ("POST", "PATCH", "PUT"):
            body = self.json_body(raw)
            problems = store.schemas.errors(method, path, body)
            if problems:
                raise HTTPError(400, {"errors": problems})

        match = re.fullmatch
        if path == "/rest/v1.0/prime_contract":
            if method == "POST":
                return self.create_prime_contract(store, body)
            if method == "GET":
                project = self.require_project(query)
                found = [c for c in store.prime_contracts.values() if c["project_id"] == project]
                if not found:
                    raise HTTPError(404, {"errors": "Not Found"})
                return 200, self.contract_view(store, found[0])
        if m := match(r"/rest/v1\.0/prime_contract/([0-9]+)", path):
            contract = self.find(store.prime_contracts, m.group(1))
            if method == "PATCH":
                contract.update(body.get("prime_contract", {}))
                return 200, self.contract_view(store, contract)
            if method == "GET":
                return 200, self.contract_view(store, contract)
        if path == "/rest/v1.0/prime_contracts" and method == "GET":
            project = self.require_project(query)
            items = [self.contract_view(store, c, lines=False) for c in store.prime_contracts.values() if c["project_id"] == project]
            return self.page(items, path, query)
        if m := match(r"/rest/v1\.0/prime_contracts/([0-9]+)/line_items", path):
            contract = self.find(store.prime_contracts, m.group(1))
            if method == "GET":
                self.require_project(query)
                return self.page([store.line_items[i] for i in contract["line_item_ids"]], path, query)
            if method == "POST":
                return self.create_line(store, "PrimeContract", contract, body.get("line_item", {}))
        if m := match(r"/rest/v1\.0/prime_contracts/([0-9]+)/line_items/sync", path):
            contract = self.find(store.prime_contracts, m.group(1))
            if method == "PATCH":
                self.require_project(query)
                return 200, self.sync_lines(store, "PrimeContract", contract, body.get("updates", []))
        if m := match(r"/rest/v1\.0/prime_contracts/([0-9]+)/line_items/([0-9]+)", path):
            contract = self.find(store.prime_contracts, m.group(1))
            line = self.find(store.line_items, m.group(2))
            if line["holder_id"] != contract["id"] or line["holder_type"] != "PrimeContract":
                raise HTTPError(404, {"errors": "Not Found"})
            if method == "PATCH":
                changes = body.get("line_item", {})
                clash = changes.get("origin_id")
                if clash and clash != line.get("origin_id") and self.line_with_origin(store, clash):
                    raise HTTPError(409, {"errors": "origin_id has already been taken"})
                line.update(changes)
                return 200, line
            if method == "GET":
                return 200, line
        if m := match(r"/rest/v1\.0/projects/([0-9]+)/prime_change_orders", path):
            project = int(m.group(1))
            if method == "POST":
                return self.create_change_order(store, project, body)
            if method == "GET":
                items = [self.change_order_view(o) for o in store.prime_change_orders.values() if o["project_id"] == project]
                contract = query.get("filters[contract_id]")
                if contract is not None:
                    items = [o for o in items if str(o["contract_id"]) == contract]
                return self.page(items, path, query)
        if m := match(r"/rest/v1\.0/projects/([0-9]+)/prime_change_orders/([0-9]+)", path):
            order = self.find(store.prime_change_orders, m.group(2))
            if order["project_id"] != int(m.group(1)):
                raise HTTPError(404, {"errors": "Not Found"})
            if method == "PATCH":
                changes = dict(body.get("change_order", {}))
                if "contract_id" in changes and str(changes["contract_id"]) != str(order["contract_id"]):
                    raise HTTPError(422, {"errors": {"contract_id": ["cannot be changed"]}})
                order.update(changes)
                return 200, self.change_order_view(order)
            if method == "GET":
                return 200, self.change_order_view(order)
        if m := match(r"/rest/v1\.0/potential_change_orders/([0-9]+)/line_items/sync", path):
            pco = self.find(store.pcos, m.group(1))
            if method == "PATCH":
                self.require_project(query)
                return 200, self.sync_lines(store, "PotentialChangeOrder", pco, body.get("updates", []))
        if m := match(r"/rest/v1\.0/potential_change_orders/([0-9]+)/line_items", path):
            pco = self.find(store.pcos, m.group(1))
            if method == "POST":
                return self.create_line(store, "PotentialChangeOrder", pco, body.get("line_item", {}))
            if method == "GET":
                return self.page([store.line_items[i] for i in pco["line_item_ids"]], path, query)
        if path == "/rest/v1.0/financials/markups":
            project = self.require_project(query)
            holder_type, holder_id = query.get("holder_type"), query.get("holder_id")
            if holder_type not in ("Contract", "PotentialChangeOrder") or not is_positive_int(holder_id):
                raise HTTPError(400, {"errors": "holder_type and holder_id are required"})
            holder_id = int(holder_id)
            holders = store.prime_contracts if holder_type == "Contract" else store.pcos
            if holder_id not in holders:
                raise HTTPError(404, {"errors": "Not Found"})
            if method == "GET":
                return 200, [m for m in store.markups.values() if m["holder_type"] == holder_type and m["holder_id"] == holder_id]
            if method == "POST":
                fields = body.get("markup", {})
                for existing in store.markups.values():
                    if (existing["holder_type"], existing["holder_id"], existing["markup_set"], existing["name"]) == (holder_type, holder_id, fields.get("markup_set"), fields.get("name")):
                        raise HTTPError(422, {"errors": {"name": ["has already been taken"]}})
                markup = {"id": store.new_id(), "project_id": project, "holder_type": holder_type, "holder_id": holder_id}
                markup.update(fields)
                store.markups[markup["id"]] = markup
                return 201, markup
        if m := match(r"/rest/v1\.0/financials/markups/([0-9]+)", path):
            markup = self.find(store.markups, m.group(1))
            if method == "PATCH":
                markup.update(body.get("markup", {}))
                return 200, markup
            if method == "GET":
                return 200, markup
        if m := match(r"/rest/v1\.0/companies/([0-9]+)/external_data/sync", path):
            self.require_company_path(store, m.group(1))
            if method == "PATCH":
                return 200, self.sync_external(store, body.get("updates", []))
        if m := match(r"/rest/v1\.0/companies/([0-9]+)/erp_request_details/([0-9]+)", path):
            self.require_company_path(store, m.group(1))
            if method in ("PATCH", "PUT"):
                detail_id = int(m.group(2))
                fields = body.get("request_detail", {})
                detail = store.request_details.setdefault(detail_id, {"id": detail_id, "status": None, "messages": []})
                detail["status"] = fields.get("status")
                detail["messages"] = fields.get("messages", [])
                return 200, detail
        if m := match(r"/rest/v1\.0/companies/([0-9]+)/erp_requests/([0-9]+)", path):
            self.require_company_path(store, m.group(1))
            if method == "GET":
                payload = store.erp_requests.get(m.group(2))
                if payload is None:
                    raise HTTPError(404, {"errors": "Not Found"})
                return 200, payload
        raise HTTPError(404, {"errors": f"No route matches {method} {path}"})

    def token(self, store, raw):
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type == "application/json":
            fields = self.json_body(raw)
            if not isinstance(fields, dict):
                raise HTTPError(400, {"error": "invalid_request"})
        else:
            fields = {key: values[-1] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
        if fields.get("grant_type") != "client_credentials":
            raise HTTPError(400, {"error": "unsupported_grant_type"})
        options = store.options
        if fields.get("client_id") != options.client_id or fields.get("client_secret") != options.client_secret:
            raise HTTPError(401, {"error": "invalid_client"})
        token = secrets.token_hex(20)
        created = int(time.time())
        store.tokens[token] = created + options.token_lifetime
        return 200, {"access_token": token, "token_type": "bearer", "expires_in": options.token_lifetime, "created_at": created}

    def authorize(self, store):
        header = self.headers.get("Authorization") or ""
        token = header[7:].strip() if header.lower().startswith("bearer ") else None
        if token is None or store.tokens.get(token, 0) <= time.time():
            raise HTTPError(401, {"errors": "The access token is invalid"})
        company = self.headers.get("Procore-Company-Id")
        if company is None or company.strip() == "":
            raise HTTPError(400, {"errors": "Missing Procore-Company-Id header!"})
        if company.strip() != str(store.options.company_id):
            raise HTTPError(403, {"errors": "You do not have access to this company"})

    def require_company_path(self, store, company):
        if company != str(store.options.company_id):
            raise HTTPError(403, {"errors": "You do not have access to this company"})

    def require_project(self, query):
        project = query.get("project_id")
        if not is_positive_int(project):
            raise HTTPError(400, {"errors": "project_id is missing"})
        return int(project)

    def find(self, table, text):
        item = table.get(int(text))
        if item is None:
            raise HTTPError(404, {"errors": "Not Found"})
        return item

    def page(self, items, path, query):
        """Procore pagination: page (1-based), per_page; Link/Total/Per-Page headers."""
        try:
            page = max(1, int(query.get("page", "1")))
            per_page = max(1, min(2000, int(query.get("per_page", "100"))))
        except ValueError:
            raise HTTPError(400, {"errors": "page and per_page must be integers"})
        start = (page - 1) * per_page
        headers = {"Total": len(items), "Per-Page": per_page}
        links = []
        base = f"http://{self.headers.get('Host') or '127.0.0.1'}{path}"
        last = max(1, (len(items) + per_page - 1) // per_page)
        for rel, number in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last)):
            if 1 <= number <= last and not (rel == "prev" and page == 1) and not (rel == "next" and page >= last):
                links.append(f'<{base}?{urlencode(dict(query, page=number, per_page=per_page))}>; rel="{rel}"')
        headers["Link"] = ", ".join(links)
        return 200, items[start:start + per_page], headers

    def contract_view(self, store, contract, lines=True):
        view = {key: value for key, value in contract.items() if key != "line_item_ids"}
        if lines:
            view["line_items"] = [store.line_items[i] for i in contract["line_item_ids"]]
        return view

    def change_order_view(self, order):
        # ASSUMPTION shared with the Swift client (ProcoreResponseShapes): the prime change order's
        # representation names the potential change order that holds its lines.
        view = {key: value for key, value in order.items() if key != "pco_ids"}
        view["potential_change_orders"] = [{"id": pco_id} for pco_id in order["pco_ids"]]
        return view

    def line_with_origin(self, store, origin_id):
        for line in store.line_items.values():
            if line.get("origin_id") == origin_id:
                return line
        return None

    def create_prime_contract(self, store, body):
        fields = body.get("prime_contract", {})
        origin = fields.get("origin_id")
        if origin and any(c.get("origin_id") == origin for c in store.prime_contracts.values()):
            raise HTTPError(409, {"errors": "origin_id has already been taken"})
        contract = {"id": store.new_id(), "project_id": body["project_id"]}
        contract.update(fields)
        contract["line_item_ids"] = []
        store.prime_contracts[contract["id"]] = contract
        return 201, self.contract_view(store, contract)

    def create_change_order(self, store, project, body):
        fields = dict(body.get("change_order", {}))
        contract = store.prime_contracts.get(fields.get("contract_id"))
        if contract is None or contract["project_id"] != project:
            raise HTTPError(422, {"errors": {"contract_id": ["does not name a prime contract of this project"]}})
        order = {"id": store.new_id(), "project_id": project}
        order.update(fields)
        # Single-tier: the package comes with a PCO that holds the lines.
        pco = {"id": store.new_id(), "project_id": project, "contract_id": contract["id"], "prime_change_order_id": order["id"],
               "number": fields.get("number"), "line_item_ids": []}
        store.pcos[pco["id"]] = pco
        order["pco_ids"] = [pco["id"]]
        store.prime_change_orders[order["id"]] = order
        return 201, self.change_order_view(order)

    def create_line(self, store, holder_type, holder, fields):
        origin = fields.get("origin_id")
        if origin and self.line_with_origin(store, origin):
            raise HTTPError(409, {"errors": "origin_id has already been taken"})
        line = {"id": store.new_id(), "holder_type": holder_type, "holder_id": holder["id"]}
        line.update(fields)
        store.line_items[line["id"]] = line
        holder["line_item_ids"].append(line["id"])
        return 201, line

    def sync_lines(self, store, holder_type, holder, updates):
        """Procore's sync contract (DELIVERY.md §2.3): id -> update; origin_id only -> update or
        create; per-item errors in a 200."""
        entities, errors = [], []
        for item in updates:
            fields = dict(item)
            line = None
            if "id" in fields:
                line = store.line_items.get(fields["id"])
                if line is None or line["holder_id"] != holder["id"] or line["holder_type"] != holder_type:
                    errors.append(dict(item, errors={"id": ["Entity with this ID not found"]}))
                    continue
            elif fields.get("origin_id"):
                line = self.line_with_origin(store, fields["origin_id"])
                if line is not None and (line["holder_id"] != holder["id"] or line["holder_type"] != holder_type):
                    errors.append(dict(item, errors={"origin_id": ["has already been taken"]}))
                    continue
            if "amount" in fields:
                try:
                    float(fields["amount"])
                except (TypeError, ValueError):
                    errors.append(dict(item, errors={"amount": ["is not a number"]}))
                    continue
            if line is None:
                line = {"id": store.new_id(), "holder_type": holder_type, "holder_id": holder["id"]}
                store.line_items[line["id"]] = line
                holder["line_item_ids"].append(line["id"])
            fields.pop("id", None)
            line.update(fields)
            entities.append(line)
        return {"entities": entities, "errors": errors}

    def sync_external(self, store, updates):
        entities = []
        for item in updates:
            key = (item["item_type"], item["item_id"])
            entry = store.external_data.get(key)
            if entry is None:
                entry = {"id": store.new_id(), "item_type": item["item_type"], "item_id": item["item_id"]}
                store.external_data[key] = entry
            entry["origin_id"] = item.get("origin_id")
            entities.append(entry)
        return {"entities": entities, "errors": []}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass  # a client that hangs up (or a lost response) is not an error worth printing


def main(argv=None):
    parser = argparse.ArgumentParser(description="Procore stand-in for SOVBridge tests")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--schemas", default=None)
    parser.add_argument("--client-id", default="standin-client")
    parser.add_argument("--client-secret", default="standin-secret")
    parser.add_argument("--company-id", type=int, default=1)
    parser.add_argument("--token-lifetime", type=int, default=5400)
    parser.add_argument("--rate-limit", type=int, default=1000)
    parser.add_argument("--rate-window", type=float, default=10.0)
    parser.add_argument("--max-lifetime", type=float, default=600.0)
    options = parser.parse_args(argv)
    folder = options.schemas or default_schema_dir()
    if not folder or not os.path.isdir(folder):
        sys.exit("procore_standin: no schema folder; pass --schemas DIR")
    store = Store(options, Schemas(folder))
    server = Server(("127.0.0.1", options.port), Handler)
    server.store = store
    stop = threading.Event()
    # A parent (Foundation's Process, a test runner) may hand down a mask that blocks these.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    print(f"listening http://127.0.0.1:{server.server_address[1]}", flush=True)
    stop.wait(options.max_lifetime)
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
