"""Self-test of the Procore stand-in: python3 -m unittest discover -s tools/standins"""

import http.client
import json
import os
import subprocess
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
COMPANY = "42"


class ProcoreStandInTest(unittest.TestCase):
    def setUp(self):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "procore_standin.py"), "--port", "0", "--max-lifetime", "60",
             "--client-id", "cid", "--client-secret", "csecret", "--company-id", COMPANY],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        self.assertTrue(line.startswith("listening http://127.0.0.1:"), line + self.process.stderr.read() if not line else line)
        self.port = int(line.rsplit(":", 1)[1])
        self.token = None

    def tearDown(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.process.stdout.close()
        self.process.stderr.close()

    def call(self, method, path, body=None, headers=None, auth=True, form=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        sent = dict(headers or {})
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body)
            sent["Content-Type"] = "application/json"
        if auth and path.startswith("/rest/"):
            sent.setdefault("Authorization", f"Bearer {self.bearer()}")
            sent.setdefault("Procore-Company-Id", COMPANY)
        try:
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            return response.status, dict(response.getheaders()), json.loads(raw) if raw else None
        finally:
            connection.close()

    def bearer(self):
        if self.token is None:
            status, _, body = self.call("POST", "/oauth/token", form={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"})
            self.assertEqual(status, 200)
            self.token = body["access_token"]
        return self.token

    def contract(self, origin="o:1", project=7):
        return {"project_id": project, "prime_contract": {"number": "N-1", "title": "T", "origin_id": origin}}

    def test_token_json_and_form_and_wrong_secret(self):
        status, _, body = self.call("POST", "/oauth/token", body={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"})
        self.assertEqual(status, 200)
        self.assertEqual(body["token_type"], "bearer")
        self.assertEqual(body["expires_in"], 5400)
        self.assertIsInstance(body["created_at"], int)
        status, _, body = self.call("POST", "/oauth/token", form={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "wrong"})
        self.assertEqual((status, body), (401, {"error": "invalid_client"}))

    def test_header_rules(self):
        status, _, body = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7", headers={"Authorization": "Bearer nope"})
        self.assertEqual((status, body), (401, {"errors": "The access token is invalid"}))
        connection_headers = {"Authorization": f"Bearer {self.bearer()}"}
        status, _, body = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7", headers=connection_headers, auth=False)
        self.assertEqual((status, body), (400, {"errors": "Missing Procore-Company-Id header!"}))
        status, _, _ = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7", headers={"Procore-Company-Id": "43"})
        self.assertEqual(status, 403)
        status, _, _ = self.call("POST", "/__standin/faults", body={"expire_tokens": True})
        status, _, body = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7")
        self.assertEqual(status, 401)

    def test_schema_refusal(self):
        body = self.contract()
        body["prime_contract"]["retainage_pct"] = "10"
        status, _, answer = self.call("POST", "/rest/v1.0/prime_contract", body=body)
        self.assertEqual(status, 400)
        self.assertIn("retainage_pct", json.dumps(answer["errors"]))
        self.assertEqual(self.call("GET", "/__standin/state")[2]["prime_contracts"], [])

    def test_duplicate_origin_is_409_and_pagination(self):
        self.assertEqual(self.call("POST", "/rest/v1.0/prime_contract", body=self.contract("o:1"))[0], 201)
        self.assertEqual(self.call("POST", "/rest/v1.0/prime_contract", body=self.contract("o:2"))[0], 201)
        status, _, body = self.call("POST", "/rest/v1.0/prime_contract", body=self.contract("o:1"))
        self.assertEqual((status, body), (409, {"errors": "origin_id has already been taken"}))
        status, headers, page = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7&per_page=1")
        self.assertEqual(status, 200)
        self.assertEqual(len(page), 1)
        self.assertEqual(headers["Total"], "2")
        self.assertEqual(headers["Per-Page"], "1")
        self.assertIn('rel="next"', headers["Link"])
        next_url = [part for part in headers["Link"].split(",") if 'rel="next"' in part][0].split(";")[0].strip()[1:-1]
        status, headers, second = self.call("GET", next_url.split(str(self.port), 1)[1])
        self.assertEqual([c["origin_id"] for c in page + second], ["o:1", "o:2"])
        self.assertNotIn('rel="next"', headers["Link"])

    def test_sync_upserts_by_origin_id(self):
        _, _, contract = self.call("POST", "/rest/v1.0/prime_contract", body=self.contract())
        path = f"/rest/v1.0/prime_contracts/{contract['id']}/line_items/sync?project_id=7"
        status, _, first = self.call("PATCH", path, body={"updates": [{"origin_id": "l:1", "amount": "10.00"}, {"origin_id": "l:2", "amount": "5.00"}]})
        self.assertEqual(status, 200)
        self.assertEqual(first["errors"], [])
        status, _, second = self.call("PATCH", path, body={"updates": [{"origin_id": "l:1", "amount": "12.50"}, {"origin_id": "l:3", "amount": "x"}]})
        self.assertEqual(status, 200)
        self.assertEqual(second["entities"][0]["id"], first["entities"][0]["id"])
        self.assertEqual(second["errors"], [{"origin_id": "l:3", "amount": "x", "errors": {"amount": ["is not a number"]}}])
        lines = self.call("GET", "/__standin/state")[2]["prime_contracts"][0]["line_items"]
        self.assertEqual([(l["origin_id"], l["amount"]) for l in lines], [("l:1", "12.50"), ("l:2", "5.00")])

    def test_change_order_creates_pco_holding_lines_and_markups(self):
        _, _, contract = self.call("POST", "/rest/v1.0/prime_contract", body=self.contract())
        status, _, order = self.call("POST", "/rest/v1.0/projects/7/prime_change_orders", body={"change_order": {"contract_id": contract["id"], "number": "001"}})
        self.assertEqual(status, 201)
        pco = order["potential_change_orders"][0]["id"]
        status, _, synced = self.call("PATCH", f"/rest/v1.0/potential_change_orders/{pco}/line_items/sync?project_id=7", body={"updates": [{"origin_id": "c:1", "amount": "1.00"}]})
        self.assertEqual((status, synced["errors"]), (200, []))
        query = f"project_id=7&holder_type=PotentialChangeOrder&holder_id={pco}"
        status, _, markup = self.call("POST", f"/rest/v1.0/financials/markups?{query}", body={"markup": {"markup_set": "vertical", "name": "Fee", "percentage": "5"}})
        self.assertEqual(status, 201)
        self.assertEqual([m["id"] for m in self.call("GET", f"/rest/v1.0/financials/markups?{query}")[2]], [markup["id"]])
        status, _, listed = self.call("GET", f"/rest/v1.0/projects/7/prime_change_orders?filters[contract_id]={contract['id']}")
        self.assertEqual([o["number"] for o in listed], ["001"])
        self.assertEqual(self.call("GET", "/rest/v1.0/projects/7/prime_change_orders?filters[contract_id]=999")[2], [])
        state = self.call("GET", "/__standin/state")[2]
        self.assertEqual(state["prime_change_orders"][0]["potential_change_orders"][0]["line_items"][0]["origin_id"], "c:1")
        self.assertEqual(state["prime_change_orders"][0]["potential_change_orders"][0]["markups"][0]["name"], "Fee")

    def test_lost_response_commits_the_write(self):
        self.call("POST", "/__standin/faults", body={"lose_response": [{"method": "POST", "path_regex": "/prime_contract$", "count": 1}]})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.call("POST", "/rest/v1.0/prime_contract", body=self.contract())
        self.assertEqual(len(self.call("GET", "/__standin/state")[2]["prime_contracts"]), 1)
        log = self.call("GET", "/__standin/requests")[2]
        self.assertEqual([e["status"] for e in log if e["path"] == "/rest/v1.0/prime_contract"], [0])

    def test_429_headers_and_rate_limit_headers(self):
        self.bearer()
        self.call("POST", "/__standin/faults", body={"every_nth_429": 2, "retry_after": 3})
        status, headers, _ = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7")
        self.assertEqual(status, 200)
        for name in ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"):
            self.assertIn(name, headers)
        status, headers, _ = self.call("GET", "/rest/v1.0/prime_contracts?project_id=7")
        self.assertEqual(status, 429)
        self.assertEqual(headers["Retry-After"], "3")
        self.assertIn("X-Rate-Limit-Reset", headers)

    def test_erp_endpoints(self):
        self.call("POST", "/__standin/erp_requests", body={"55": {"request_name": "create_prime_contract_change_order", "request_data": {"request_detail_id": 9}}})
        status, _, payload = self.call("GET", f"/rest/v1.0/companies/{COMPANY}/erp_requests/55")
        self.assertEqual((status, payload["request_data"]["request_detail_id"]), (200, 9))
        status, _, synced = self.call("PATCH", f"/rest/v1.0/companies/{COMPANY}/external_data/sync", body={"updates": [{"item_type": "change_order", "item_id": 5, "origin_id": "x"}]})
        self.assertEqual((status, synced["entities"][0]["origin_id"]), (200, "x"))
        status, _, detail = self.call("PATCH", f"/rest/v1.0/companies/{COMPANY}/erp_request_details/9", body={"request_detail": {"status": "failed", "messages": ["no job"]}})
        self.assertEqual((status, detail["status"], detail["messages"]), (200, "failed", ["no job"]))
        self.assertEqual(self.call("GET", "/__standin/state")[2]["request_details"][0]["status"], "failed")


if __name__ == "__main__":
    unittest.main()
