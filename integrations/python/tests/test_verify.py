"""Offline verification, with keys made here (no broker needed)."""

import json
import unittest
import warnings

from joserfc import jws
from joserfc.jwk import OKPKey

from countersign_broker import VerificationError, verify_callback, verify_decision


def signed(claims: dict, key: OKPKey, typ: str) -> str:
    header = {"alg": "EdDSA", "kid": key.thumbprint(), "typ": typ}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=["EdDSA"])


def jwks(key: OKPKey) -> dict:
    public = key.as_dict(private=False)
    public["kid"] = key.thumbprint()
    return {"keys": [public]}


class VerifyTest(unittest.TestCase):
    def setUp(self) -> None:
        self.approver = OKPKey.generate_key("Ed25519")
        self.broker = OKPKey.generate_key("Ed25519")
        self.decision = {"request_id": "req-1", "decision": "approve", "approver": {"id": "alice"}}

    def test_a_decision_verifies_with_its_approvers_keys_only(self) -> None:
        token = signed(self.decision, self.approver, "countersign-decision+jwt")
        self.assertEqual(verify_decision(token, jwks(self.approver), "req-1")["decision"], "approve")
        with self.assertRaises(VerificationError):
            verify_decision(token, jwks(OKPKey.generate_key("Ed25519")))
        with self.assertRaises(VerificationError):
            verify_decision(token, jwks(self.approver), "req-2")

    def test_verifying_warns_nothing(self) -> None:
        # joserfc's deprecation notice for the name EdDSA stays out of a
        # SOAR's log.
        token = signed(self.decision, self.approver, "countersign-decision+jwt")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            verify_decision(token, jwks(self.approver))

    def test_a_tampered_or_mistyped_token_is_refused(self) -> None:
        token = signed(self.decision, self.approver, "countersign-decision+jwt")
        head, payload, sig = token.split(".")
        other = signed({**self.decision, "decision": "deny"}, self.approver, "countersign-decision+jwt")
        with self.assertRaises(VerificationError):
            verify_decision(f"{head}.{other.split('.')[1]}.{sig}", jwks(self.approver))
        outcome_typed = signed(self.decision, self.approver, "countersign-outcome+jwt")
        with self.assertRaises(VerificationError):
            verify_decision(outcome_typed, jwks(self.approver))

    def test_a_callback_is_the_signed_outcome_not_the_copy_beside_it(self) -> None:
        outcome = {
            "outcome_id": "req-1/approved",
            "request_id": "req-1",
            "iss": "https://broker.example",
            "status": "approved",
            "decisions": [],
        }
        token = signed(outcome, self.broker, "countersign-outcome+jwt")
        body = {"outcome": outcome, "jws": token}
        self.assertEqual(verify_callback(body, jwks(self.broker))["status"], "approved")
        with self.assertRaises(VerificationError):
            verify_callback({**body, "outcome": {**outcome, "status": "denied"}}, jwks(self.broker))
        with self.assertRaises(VerificationError):
            verify_callback(body, jwks(self.approver))
        with self.assertRaises(VerificationError):
            verify_callback({"outcome": outcome}, jwks(self.broker))

    def test_a_callback_for_another_request_or_broker_is_refused(self) -> None:
        outcome = {"outcome_id": "req-1/denied", "request_id": "req-1", "iss": "https://broker.example"}
        body = {"outcome": outcome, "jws": signed(outcome, self.broker, "countersign-outcome+jwt")}
        keys = jwks(self.broker)
        self.assertEqual(verify_callback(body, keys, "req-1", "https://broker.example")["request_id"], "req-1")
        with self.assertRaises(VerificationError):
            verify_callback(body, keys, request_id="req-2")
        with self.assertRaises(VerificationError):
            verify_callback(body, keys, issuer="https://other-broker.example")


if __name__ == "__main__":
    unittest.main()
