#!/usr/bin/env python3
"""Verifies a Countersign-signed JWS with an independent JOSE library
(joserfc) using only the exported JWKS, and recomputes the request digest
with an independent RFC 8785 implementation (rfc8785).

    verify_decision.py JWKS.json TOKEN.txt REQUEST.json

Prints the verified claims as JSON; exits non-zero on any mismatch.
"""

import base64
import hashlib
import json
import sys

import rfc8785
from joserfc import jws
from joserfc.jwk import KeySet


def main():
    jwks_path, token_path, request_path = sys.argv[1:4]
    keys = KeySet.import_key_set(json.load(open(jwks_path)))
    token = open(token_path).read().strip()
    # Only EdDSA is allowed: a token claiming another algorithm must fail.
    obj = jws.deserialize_compact(token, keys, algorithms=["EdDSA"])
    claims = json.loads(obj.payload)
    header = obj.protected
    assert header["alg"] == "EdDSA", header
    assert header["kid"] in [k.kid for k in keys.keys], header

    request = json.load(open(request_path))
    digest = base64.urlsafe_b64encode(hashlib.sha256(rfc8785.dumps(request)).digest()).rstrip(b"=").decode()
    if claims.get("request_digest") != digest:
        sys.exit(f"request digest mismatch: token has {claims.get('request_digest')}, recomputed {digest}")
    print(json.dumps(claims))


if __name__ == "__main__":
    main()
