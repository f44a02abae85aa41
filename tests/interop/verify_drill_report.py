#!/usr/bin/env python3
"""Re-verifies every decision in a drill report (report.json) with an
independent JOSE library (joserfc), using only the public keys the report
carries, and checks each signed payload says what the report says.

    verify_drill_report.py REPORT.json

Prints the number of decisions verified; exits non-zero on any failure.
"""

import json
import sys

from joserfc import jws
from joserfc.jwk import KeySet


def main():
    report = json.load(open(sys.argv[1]))
    verified = 0
    for inject in report["injects"]:
        for d in inject["decisions"]:
            if d["receipt"] == "rejected":
                continue
            keys = KeySet.import_key_set({"keys": report["keys"][d["approver"]]["keys"]})
            obj = jws.deserialize_compact(d["jws"], keys, algorithms=["EdDSA"])
            claims = json.loads(obj.payload)
            expected = {
                "request_id": inject["request_id"],
                "decision": d["decision"],
                "reason": d["reason"],
                "aud": report["backend"],
            }
            for field, want in expected.items():
                if claims[field] != want:
                    sys.exit(f"{inject['id']}: signed {field} is {claims[field]!r}, report says {want!r}")
            if claims["approver"]["id"] != d["approver"]:
                sys.exit(f"{inject['id']}: signed by {claims['approver']['id']}, report says {d['approver']}")
            verified += 1
    print(verified)


if __name__ == "__main__":
    main()
