#!/usr/bin/env python3
"""Verifies a review campaign's export (`countersign campaign export`) as
an auditor would, offline, with libraries Countersign does not use:
joserfc checks every signature, rfc8785 recomputes the digest of each
record an attestation signs.

    verify_campaign.py EXPORT.json [JWKS.json]

With JWKS.json (keys obtained another way: the owners' `countersign keys
export --jwks`, or the backend's enrolled keys), the export's own JWKS is
not trusted. Checks:
  - the manifest (signed by the exporter) names exactly the items the file
    holds, with their reviewers, verdicts, attesters and the SHA-256 of
    each attestation, and the counts;
  - each attestation's signature and typ, and that it signs this campaign,
    this identity, this attester and verdict, and the record beside it.
  - the answers and comment beside each attestation are the signed ones.
Prints what it verified; exits non-zero on any failure.
"""

import base64
import hashlib
import json
import sys
import warnings
from datetime import datetime

import rfc8785
from joserfc import jws
from joserfc.jwk import KeySet

warnings.filterwarnings("ignore", message=".*EdDSA.*")


def b64sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def fail(message):
    sys.exit(message)


def main():
    export = json.load(open(sys.argv[1]))
    jwks = json.load(open(sys.argv[2])) if len(sys.argv) > 2 else export["jwks"]
    keys = KeySet.import_key_set(jwks)

    def verify(token, typ, what):
        try:
            obj = jws.deserialize_compact(token, keys, algorithms=["EdDSA"])
        except Exception as e:  # noqa: BLE001 - any failure is a failed check
            fail(f"{what}: the signature does not verify ({type(e).__name__}: {e})")
        if obj.headers().get("typ") != typ:
            fail(f"{what}: typ {obj.headers().get('typ')!r}, expected {typ!r}")
        return json.loads(obj.payload)

    status = export["status"]
    campaign = status["campaign"]["id"]
    manifest = verify(export["manifest"], export["manifest_typ"], "the manifest")
    if manifest["campaign"] != campaign:
        fail(f"the manifest is campaign {manifest['campaign']!r}'s, the file says {campaign!r}")
    items = status["items"]
    listed = {m["identity"]: m for m in manifest["items"]}
    held = [i["identity"] for i in items]
    if len(held) != len(set(held)):
        fail("an item is listed twice")
    if set(held) != set(listed):
        fail(f"the file's items differ from the manifest's: missing {sorted(set(listed) - set(held))}, added {sorted(set(held) - set(listed))}")
    for field in ("total", "confirmed", "changes_needed", "pending", "removed"):
        if status.get(field) != manifest.get(field):
            fail(f"{field} is {status.get(field)} in the file, {manifest.get(field)} in the manifest")
    for field in ("due_on", "scope", "name", "started_by", "started_at"):
        if status["campaign"].get(field) != manifest.get(field):
            fail(f"the campaign's {field} differs from the manifest's")
    for field in ("overdue", "by_team", "by_reviewer"):
        if status.get(field) != manifest.get(field):
            fail(f"{field} differs from the manifest's")
    if status["campaign"].get("closed") != manifest.get("closed"):
        fail("the campaign's closing differs from the manifest's")
    if export.get("exported_at") != manifest.get("exported_at"):
        fail("exported_at differs from the manifest's")
    if export.get("key_status") != manifest.get("key_status"):
        fail("key_status differs from the manifest's")

    verified = 0
    for item in items:
        m = listed[item["identity"]]
        for field in ("reviewer", "verdict", "attested_by", "attested_at", "removed"):
            if item.get(field) != m.get(field):
                fail(f"{item['identity']}: {field} is {item.get(field)!r} in the file, {m.get(field)!r} in the manifest")
        token = item["jws"]
        if token is None:
            if m["attestation_sha256"] is not None:
                fail(f"{item['identity']}: the manifest lists an attestation the file lacks")
            # Nothing signed: nothing may be shown as if it were.
            for field in ("verdict", "attested_by", "attested_at", "answers", "comment", "record"):
                if item.get(field) is not None:
                    fail(f"{item['identity']}: {field} is shown without an attestation")
            continue
        if b64sha256(token.encode()) != m["attestation_sha256"]:
            fail(f"{item['identity']}: the attestation is not the one the manifest lists")
        claims = verify(token, export["attestation_typ"], item["identity"])
        record = json.loads(item["record"])
        checks = {
            "campaign": campaign,
            "identity": item["identity"],
            "sub": item["attested_by"],
            "verdict": item["verdict"],
            "record_digest": b64sha256(rfc8785.dumps(record)),
        }
        for field, want in checks.items():
            if claims[field] != want:
                fail(f"{item['identity']}: signed {field} is {claims[field]!r}, the export says {want!r}")
        # The answers and comment shown beside it are the signed ones.
        if item.get("answers") != claims.get("answers"):
            fail(f"{item['identity']}: the answers in the file are not the signed ones")
        if (item.get("comment") or "") != (claims.get("comment") or ""):
            fail(f"{item['identity']}: the comment in the file is not the signed one")
        # Recorded when it was signed (within a minute of iat).
        at = datetime.fromisoformat(item["attested_at"].replace("Z", "+00:00"))
        if abs(at.timestamp() - claims["iat"]) > 60:
            fail(f"{item['identity']}: attested_at {item['attested_at']} is not when it was signed")
        if record["id"] != item["identity"]:
            fail(f"{item['identity']}: the record is {record['id']!r}'s")
        verified += 1
    attested = sum(1 for i in items if i["jws"] is not None)
    print(
        f"campaign {campaign}: {verified} of {attested} attestations verified; "
        f"{status['pending']} pending, {status.get('removed', 0)} deleted; manifest signed by "
        f"{jws.extract_compact(export['manifest'].encode()).headers().get('kid')}"
    )


if __name__ == "__main__":
    main()
