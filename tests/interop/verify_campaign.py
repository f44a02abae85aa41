#!/usr/bin/env python3
"""Verifies a review campaign's export (`countersign campaign export`) as
an auditor would, offline, with libraries Countersign does not use:
joserfc checks each attestation's EdDSA signature against the export's
JWKS alone, and rfc8785 recomputes the digest of the record it signs.

    verify_campaign.py EXPORT.json

Prints the number of attestations verified; exits non-zero on any failure.
"""

import base64
import hashlib
import json
import sys

import rfc8785
from joserfc import jws
from joserfc.jwk import KeySet


def main():
    export = json.load(open(sys.argv[1]))
    keys = KeySet.import_key_set(export["jwks"])
    campaign = export["status"]["campaign"]["id"]
    verified = 0
    for item in export["status"]["items"]:
        if item["jws"] is None:
            continue
        obj = jws.deserialize_compact(item["jws"], keys, algorithms=["EdDSA"])
        if obj.headers().get("typ") != export["attestation_typ"]:
            sys.exit(f"{item['identity']}: typ {obj.headers().get('typ')!r}")
        claims = json.loads(obj.payload)
        record = json.loads(item["record"])
        digest = base64.urlsafe_b64encode(hashlib.sha256(rfc8785.dumps(record)).digest()).rstrip(b"=").decode()
        checks = {
            "campaign": campaign,
            "identity": item["identity"],
            "sub": item["attested_by"],
            "verdict": item["verdict"],
            "record_digest": digest,
        }
        for field, want in checks.items():
            if claims[field] != want:
                sys.exit(f"{item['identity']}: signed {field} is {claims[field]!r}, the export says {want!r}")
        if record["id"] != item["identity"]:
            sys.exit(f"{item['identity']}: the record is {record['id']!r}'s")
        verified += 1
    print(verified)


if __name__ == "__main__":
    main()
