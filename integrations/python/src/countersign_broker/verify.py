"""Offline verification of what the broker sends, with joserfc (an
independent JOSE implementation): the outcome a callback carries, signed by
the broker's key, and each approver's decision, signed by theirs."""

from __future__ import annotations

import json
import warnings
from typing import Any, Mapping

from joserfc import jws
from joserfc.jwk import KeySet

OUTCOME_TYP = "countersign-outcome+jwt"
DECISION_TYP = "countersign-decision+jwt"


class VerificationError(Exception):
    """A signature, type or claim did not check out."""


def _verify(compact: str, jwks: Mapping[str, Any], typ: str) -> dict[str, Any]:
    try:
        keys = KeySet.import_key_set({"keys": list(jwks["keys"])})
        # joserfc warns that the name "EdDSA" is deprecated by RFC 9864 (in
        # favour of "Ed25519", the same Ed25519 signature); Countersign
        # signs with the name every JOSE library still reads. Silenced here
        # only, so a SOAR's log is not filled with it on every check.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*EdDSA.*")
            token = jws.deserialize_compact(compact, keys, algorithms=["EdDSA"])
    except Exception as e:  # joserfc raises several kinds; one answer here
        raise VerificationError(f"signature does not verify: {e}") from e
    got = str(token.protected.get("typ", "")).lower().removeprefix("application/")
    if got != typ:
        raise VerificationError(f"typ is {got!r}, expected {typ!r}")
    claims = json.loads(token.payload)
    if not isinstance(claims, dict):
        raise VerificationError("the payload is not a JSON object")
    return claims


def verify_decision(
    compact: str, approver_jwks: Mapping[str, Any], request_id: str | None = None
) -> dict[str, Any]:
    """Verifies one approver's decision (compact JWS) against their JWKS
    (``GET /v1/approvers/{id}/jwks``) and returns its claims; with
    ``request_id``, also that it decides that request."""
    claims = _verify(compact, approver_jwks, DECISION_TYP)
    if request_id is not None and claims.get("request_id") != request_id:
        raise VerificationError(
            f"the decision is for {claims.get('request_id')!r}, not {request_id!r}"
        )
    return claims


def verify_callback(
    body: Mapping[str, Any],
    broker_jwks: Mapping[str, Any],
    request_id: str | None = None,
    issuer: str | None = None,
) -> dict[str, Any]:
    """Verifies a callback's body (``{"outcome": ..., "jws": ...}``) against
    the broker's JWKS (``/.well-known/jwks.json``) and returns the signed
    outcome — the signed one, never the unsigned copy beside it. With
    ``request_id``, also that it is that request's outcome (a receiver
    waiting for one request takes no other's); with ``issuer``, that the
    broker answering to that audience signed it (its ``iss``)."""
    compact = body.get("jws")
    if not isinstance(compact, str):
        raise VerificationError("the callback carries no jws")
    outcome = _verify(compact, broker_jwks, OUTCOME_TYP)
    if body.get("outcome") not in (None, outcome):
        raise VerificationError("the unsigned outcome differs from the signed one")
    if request_id is not None and outcome.get("request_id") != request_id:
        raise VerificationError(
            f"the outcome is for {outcome.get('request_id')!r}, not {request_id!r}"
        )
    if issuer is not None and outcome.get("iss") != issuer:
        raise VerificationError(f"the outcome was issued by {outcome.get('iss')!r}, not {issuer!r}")
    return outcome
