#!/usr/bin/env python3
"""Validates Procore import objects (what `sov-emit --to procore` writes) against Procore's schemas.

Usage: validate_procore_bodies.py IMPORTS.jsonl [...]   ('-' reads standard input)

Each line is {kind, origin_id, project_id, requests: [{method, path, query, body}]}. Every request is
matched to its endpoint by the "METHOD /rest/..." that each *.request.schema.json names in its
$comment, and its body is validated against that schema, strictly: a property the schema does not
list is an error too (Procore ignores unknown fields silently, which would hide a misspelt one).
Ids that Procore assigns on create may appear as {placeholders} in a path or query. In a body only
one may: a change order's "contract_id": "{prime_contract_id}" when the import also names the
contract's "contract_origin_id" (its contract is created by SOVBridge; the delivery fills the id in).
Such a body is validated with a sample id in its place.
An update's PATCH of an object at the create's path plus its id is checked against the create's schema.

The schemas are found in $PROCORE_SCHEMA_DIR, else in shared/reference/procore in the nearest folder
above the repository that has one (CI: the fresh clone's sibling ../shared).
Exit status: 0 all bodies valid, 1 any problem (each one printed), 2 usage or setup error.
"""

import copy
import json
import os
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("validate_procore_bodies: the jsonschema module is missing; run: python3 -m pip install jsonschema")

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
ENDPOINT = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) (/rest/[^\s]+)")
KINDS = {"prime_contract", "change_order"}
MARKUP_HOLDER_TYPES = {"Contract", "PotentialChangeOrder"}


def schema_dir():
    explicit = os.environ.get("PROCORE_SCHEMA_DIR")
    if explicit:
        return explicit
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = os.path.dirname(repo)
    while True:
        candidate = os.path.join(folder, "shared", "reference", "procore")
        if os.path.isdir(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            sys.exit(f"validate_procore_bodies: no shared/reference/procore above {repo}; set PROCORE_SCHEMA_DIR")
        folder = parent


def strict(schema):
    """A copy where every object schema that lists its properties allows no others."""
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


def load_routes(folder):
    """(method, path regex, schema name, validator) for every request schema in the folder."""
    routes = []
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".request.schema.json"):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as handle:
            schema = json.load(handle)
        found = ENDPOINT.search(schema.get("$comment", ""))
        if not found:
            sys.exit(f"validate_procore_bodies: {name} does not name its endpoint in $comment")
        method, template = found.groups()
        pattern = "^" + "/".join(
            r"(?:[1-9][0-9]*|\{[a-z_]+\})" if PLACEHOLDER.fullmatch(part) else re.escape(part)
            for part in template.split("/")) + "$"
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        validator = jsonschema.Draft202012Validator(strict(schema), format_checker=checker)
        routes.append((method, re.compile(pattern), name, validator))
        if method == "POST":
            # An update (sov-run, of a document exported before) PATCHes the object the create
            # made, at the create's path plus its id, with a body of the create's shape.
            routes.append(("PATCH", re.compile(pattern[:-1] + r"/(?:[1-9][0-9]*|\{[a-z_]+\})$"), name, validator))
    if not routes:
        sys.exit(f"validate_procore_bodies: no *.request.schema.json in {folder}")
    return routes


def placeholders_in(value, where):
    if isinstance(value, str):
        return [f"{where}: placeholder {m} in a body" for m in PLACEHOLDER.findall(value)]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in placeholders_in(item, f"{where}.{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in placeholders_in(item, f"{where}[{index}]")]
    return []


def check_request(request, where, routes, contract_origin_id=None):
    problems = []
    if not isinstance(request, dict) or set(request) != {"method", "path", "query", "body"}:
        return [f"{where}: a request is exactly {{method, path, query, body}}"]
    method, path, query, body = request["method"], request["path"], request["query"], request["body"]
    if not isinstance(query, dict) or not all(isinstance(v, str) for v in query.values()):
        problems.append(f"{where}.query: must be an object of strings")
    matches = [route for route in routes if route[0] == method and isinstance(path, str) and route[1].match(path)]
    if not matches:
        return problems + [f"{where}: no known schema for {method} {path}"]
    _, _, name, validator = matches[0]
    if contract_origin_id is not None and isinstance(body, dict) and isinstance(body.get("change_order"), dict) \
            and body["change_order"].get("contract_id") == "{prime_contract_id}":
        body = copy.deepcopy(body)
        body["change_order"]["contract_id"] = 1
    for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
        location = ".".join(str(part) for part in error.absolute_path) or "(body)"
        problems.append(f"{where}.body.{location}: {error.message} [{name}]")
    problems += placeholders_in(body, f"{where}.body")
    if name.startswith("markup.") and isinstance(query, dict):
        if query.get("holder_type") not in MARKUP_HOLDER_TYPES:
            problems.append(f"{where}.query.holder_type: must be one of {sorted(MARKUP_HOLDER_TYPES)}")
        for key in ("project_id", "holder_id"):
            if key not in query:
                problems.append(f"{where}.query: missing {key}")
    return problems


def check_import(document, where, routes):
    keys = list(document) if isinstance(document, dict) else []
    if keys not in (["kind", "origin_id", "project_id", "requests"], ["kind", "origin_id", "project_id", "contract_origin_id", "requests"]):
        return [f"{where}: an import object is {{kind, origin_id, project_id, [contract_origin_id,] requests}} in that order"], 0
    problems = []
    contract_origin_id = document.get("contract_origin_id")
    if contract_origin_id is not None and (document["kind"] != "change_order" or not isinstance(contract_origin_id, str)
                                           or not contract_origin_id.startswith("spectrum:")):
        problems.append(f"{where}.contract_origin_id: only a change order names its contract's spectrum: key")
    if document["kind"] not in KINDS:
        problems.append(f"{where}.kind: unknown kind {document['kind']!r}")
    if not isinstance(document["origin_id"], str) or not document["origin_id"].startswith("spectrum:"):
        problems.append(f"{where}.origin_id: must be a spectrum: key")
    if not isinstance(document["project_id"], int) or isinstance(document["project_id"], bool):
        problems.append(f"{where}.project_id: must be an integer")
    requests = document["requests"]
    if not isinstance(requests, list) or not requests:
        return problems + [f"{where}.requests: must be a non-empty array"], 0
    for index, request in enumerate(requests):
        problems += check_request(request, f"{where}.requests[{index}]", routes, contract_origin_id)
    return problems, len(requests)


def main(paths):
    if not paths:
        sys.exit(__doc__)
    folder = schema_dir()
    routes = load_routes(folder)
    problems, documents, bodies = [], 0, 0
    for path in paths:
        handle = sys.stdin if path == "-" else open(path, encoding="utf-8")
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    document = json.loads(line)
                except json.JSONDecodeError as error:
                    problems.append(f"{where}: not JSON: {error}")
                    continue
                found, count = check_import(document, where, routes)
                problems += found
                documents += 1
                bodies += count
    for problem in problems:
        print(f"validate_procore_bodies: {problem}", file=sys.stderr)
    if bodies == 0:
        print("validate_procore_bodies: no request bodies to validate", file=sys.stderr)
        return 1
    if problems:
        print(f"validate_procore_bodies: {len(problems)} problem(s) in {documents} import object(s)", file=sys.stderr)
        return 1
    print(f"validate_procore_bodies: {bodies} bodies in {documents} import objects valid against {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
