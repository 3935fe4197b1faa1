"""Self-test of the Spectrum Data Exchange stand-in: runs it as a subprocess, as the Swift tests do."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "spectrum_standin.py")
NIS = "http://www.northgate-is.com/proiv/webservices/types"
AUTH = "sovbridge01"

HEADER = [("Company_Code", "1"), ("Job_Number", "24-1017"), ("Customer_Code", "OWN100"),
          ("Change_Request_Number", "007"), ("CR_Description", "Temp fence extension"), ("CR_Status", "A"),
          ("Origination_Date", "03/14/2025"), ("Approved_Date", "03/12/2025")]


def envelope(fields, method="ARChangeRequest", records=1):
    body = "".join(f"<{name}>{value}</{name}>" for name, value in fields)
    call = f'<{method} xmlns="{NIS}">{body}</{method}>' * records
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<soap:Body>{call}</soap:Body></soap:Envelope>").encode("utf-8")


def estimate(phase, cost_type, amount, guid="g-1", auth=AUTH, header=HEADER):
    return [("Authorization_ID", auth), ("GUID", guid)] + header + [
        ("CR_Phase_Code", phase), ("CR_Cost_Type", cost_type), ("Change_Request_Amount", amount)]


def billing(item, description, revenue, guid="g-1", auth=AUTH, header=HEADER):
    return [("Authorization_ID", auth), ("GUID", guid)] + header + [
        ("CR_Billing_Item_Code", item), ("CR_Billing_Item_Description", description), ("CR_Revenue", revenue)]


def rows(body):
    """(error_code, desc, column) per <response> row of an answer."""
    root = ET.fromstring(body)
    return [(r.findtext("error_code"), r.findtext("desc"), r.findtext("column")) for r in root.iter("response")]


class StandInTest(unittest.TestCase):
    extra_args: list[str] = []

    def setUp(self):
        self.process = subprocess.Popen(
            [sys.executable, SCRIPT, "--port", "0", "--authorization-id", AUTH, "--company", "1",
             "--max-lifetime", "60", *self.extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        match = re.fullmatch(r"listening http://127\.0\.0\.1:(\d+)\n", line)
        self.assertIsNotNone(match, f"first line was {line!r}")
        self.port = int(match.group(1))

    def tearDown(self):
        self.process.terminate()
        self.assertEqual(self.process.wait(timeout=10), 0)
        self.process.stdout.close()
        self.process.stderr.close()

    def request(self, method, path, body=b"", headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def soap(self, fields, method="ARChangeRequest", records=1, action=None, content_type="text/xml; charset=utf-8"):
        action = action if action is not None else f"http://127.0.0.1:{self.port}/ws/{method}"
        return self.request("POST", f"/ws/{method}", envelope(fields, method, records),
                            {"Content-Type": content_type, "SOAPAction": action})

    def state(self):
        status, body = self.request("GET", "/__standin/state")
        self.assertEqual(status, 200)
        return json.loads(body)

    def log(self):
        return json.loads(self.request("GET", "/__standin/requests")[1])

    def faults(self, spec):
        status, _ = self.request("POST", "/__standin/faults", json.dumps(spec).encode())
        self.assertEqual(status, 200)


class BasicTests(StandInTest):
    def test_accepts_records_and_stores_amounts(self):
        for fields in (estimate("01500", "S", "1000.00"), estimate("16100", "M", "2500"),
                       billing("01-000", "Temp fence", "1040.30")):
            status, body = self.soap(fields)
            self.assertEqual(status, 200)
            self.assertEqual(rows(body)[0][0], "G")
        crs = self.state()["change_requests"]
        self.assertEqual(len(crs), 1)
        cr = crs[0]
        self.assertEqual((cr["company"], cr["job"], cr["customer"], cr["number"]), ("1", "24-1017", "OWN100", "007"))
        self.assertEqual(cr["header"]["CR_Status"], "A")
        self.assertEqual([(e["CR_Phase_Code"], e["CR_Cost_Type"], e["Change_Request_Amount"]) for e in cr["estimates"]],
                         [("01500", "S", "1000.00"), ("16100", "M", "2500.00")])
        self.assertEqual([(b["CR_Billing_Item_Code"], b["CR_Revenue"]) for b in cr["billing"]], [("01-000", "1040.30")])

    def test_repeated_number_updates_never_duplicates(self):
        self.soap(estimate("01500", "S", "1000.00"))
        status, body = self.soap(estimate("01500", "S", "1200.00", guid="g-2"))
        self.assertEqual(rows(body)[0], ("G", "Change request 007 updated", "Change_Request_Number"))
        crs = self.state()["change_requests"]
        self.assertEqual(len(crs), 1)
        self.assertEqual([e["Change_Request_Amount"] for e in crs[0]["estimates"]], ["1200.00"])
        self.assertEqual(crs[0]["records_applied"], 2)

    def test_blank_number_auto_creates_each_time(self):
        header = [(k, "" if k == "Change_Request_Number" else v) for k, v in HEADER]
        self.soap(estimate("01500", "S", "1.00", header=header))
        self.soap(estimate("01500", "S", "1.00", header=header))
        self.assertEqual(len(self.state()["change_requests"]), 2)

    def test_wrong_authorization_id_answers_A(self):
        status, body = self.soap(estimate("01500", "S", "1.00", auth="nope"))
        self.assertEqual(status, 200)
        self.assertEqual(rows(body), [("A", "The Web Service is not authorized. Authorization ID is not setup in the system.",
                                       "Authorization_ID")])
        self.assertEqual(self.state()["change_requests"], [])

    def test_field_limits_and_missing_fields(self):
        status, body = self.soap(billing("01-000", "x" * 31, "1.00"))
        self.assertEqual(rows(body), [("I", "CR_Billing_Item_Description exceeds the maximum length of 30",
                                       "CR_Billing_Item_Description")])
        header = [(k, v) for k, v in HEADER if k != "Job_Number"]
        status, body = self.soap(estimate("01500", "S", "1.00", header=header))
        self.assertIn(("M", "Job_Number is required", "Job_Number"), rows(body))
        status, body = self.soap(estimate("01-500", "S", "12345678901.00"))
        codes = {(code, column) for code, _, column in rows(body)}
        self.assertEqual(codes, {("I", "CR_Phase_Code"), ("I", "Change_Request_Amount")})
        header = [(k, v) for k, v in HEADER if k != "CR_Status"]
        status, body = self.soap(estimate("01500", "S", "1.00", header=header))
        self.assertEqual(rows(body)[0][2], "CR_Status")
        self.assertEqual(self.state()["change_requests"], [])

    def test_protocol_checks(self):
        status, _ = self.soap(estimate("01500", "S", "1.00"), content_type="application/json")
        self.assertEqual(status, 415)
        status, body = self.soap(estimate("01500", "S", "1.00"), action="ARChangeRequest")
        self.assertEqual(status, 500)
        self.assertIn(b"faultcode>SOAP-ENV:Client", body)
        status, body = self.soap(estimate("01500", "S", "1.00"), records=2)
        self.assertEqual(status, 500)
        self.assertIn(b"exactly one ARChangeRequest", body)
        out_of_order = estimate("01500", "S", "1.00") + [("CR_Status", "A")]
        status, body = self.soap(out_of_order)
        self.assertEqual(status, 500)
        self.assertIn(b"out of the documented order", body)
        self.assertEqual(self.state()["change_requests"], [])

    def test_change_order_needs_existing_change_request(self):
        fields = [("Authorization_ID", AUTH), ("GUID", "g-co"), ("Company_Code", "1"), ("Job_Number", "24-1017"),
                  ("Customer_Code", "OWN100"), ("Change_Order_Number", "CO7"), ("Status_Code", "A"),
                  ("Change_Request_Number", "007"), ("CO_Billing_Item_Code", "1000"), ("Revenue", "5.5")]
        status, body = self.soap(fields, method="ARChangeOrder")
        self.assertEqual(rows(body)[0][::2], ("I", "Change_Request_Number"))
        self.soap(estimate("01500", "S", "1.00"))
        status, body = self.soap(fields, method="ARChangeOrder")
        self.assertEqual(rows(body)[0][0], "G")
        cos = self.state()["change_orders"]
        self.assertEqual([(c["number"], c["billing"][0]["Revenue"]) for c in cos], [("CO7", "5.50")])


class FaultTests(StandInTest):
    def test_every_nth_fault_and_500(self):
        self.faults({"every_nth_fault": 2, "every_nth_500": 3})
        answers = [self.soap(estimate("01500", "S", "1.00"))[0] for _ in range(4)]
        self.assertEqual(answers, [200, 500, 500, 500])
        log = [entry["answer"] for entry in self.log()]
        self.assertEqual(log, ["G", "fault:Server", "500", "fault:Server"])

    def test_lost_response_commits(self):
        self.faults({"lose_response": [{"count": 1}]})
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.soap(estimate("01500", "S", "7.00"))
        self.assertEqual(self.state()["change_requests"][0]["estimates"][0]["Change_Request_Amount"], "7.00")
        status, body = self.soap(estimate("01500", "S", "7.00"))
        self.assertEqual(rows(body)[0][1], "Change request 007 updated")
        self.assertEqual(len(self.state()["change_requests"]), 1)

    def test_refuse_numbers(self):
        self.faults({"refuse_numbers": ["007"]})
        status, body = self.soap(estimate("01500", "S", "1.00"))
        self.assertEqual(rows(body)[0][0::2], ("I", "Change_Request_Number"))
        self.assertEqual(self.state()["change_requests"], [])

    def test_reset(self):
        self.soap(estimate("01500", "S", "1.00"))
        self.assertEqual(self.request("POST", "/__standin/reset")[0], 200)
        self.assertEqual(self.state(), {"change_requests": [], "change_orders": []})
        self.assertEqual(self.log(), [])


class GuidTimeoutTests(StandInTest):
    extra_args = ["--guid-timeout-after", "2"]

    def test_nth_use_times_out_and_stays_expired(self):
        self.assertEqual(rows(self.soap(estimate("01500", "S", "1.00"))[1])[0][0], "G")
        for _ in range(2):
            self.assertEqual(rows(self.soap(estimate("16100", "M", "2.00"))[1]),
                             [("A", "Time out has occurred", "GUID")])
        self.assertEqual(rows(self.soap(estimate("16100", "M", "2.00", guid="g-new"))[1])[0][0], "G")
        self.assertEqual(len(self.state()["change_requests"][0]["estimates"]), 2)


if __name__ == "__main__":
    unittest.main()
