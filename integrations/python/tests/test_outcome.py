"""The client does not take the broker's word for an outcome."""

import json
import unittest

from joserfc import jws
from joserfc.jwk import OKPKey

from countersign_broker import Broker, VerificationError


def signed(claims: dict, key: OKPKey) -> str:
    header = {"alg": "EdDSA", "kid": key.thumbprint(), "typ": "countersign-decision+jwt"}
    return jws.serialize_compact(header, json.dumps(claims), key, algorithms=["EdDSA"])


class Canned(Broker):
    """A broker answering from a table (a lying one, for these tests)."""

    def __init__(self, answers: dict) -> None:
        super().__init__("http://broker.invalid", "token")
        self.answers = answers
        self.paths: list[str] = []

    def _call(self, method, path, body=None, auth=True):  # type: ignore[override]
        self.paths.append(path)
        return self.answers[path.split("?")[0]]


class OutcomeTest(unittest.TestCase):
    def setUp(self) -> None:
        self.alice = OKPKey.generate_key("Ed25519")
        public = self.alice.as_dict(private=False)
        public["kid"] = self.alice.thumbprint()
        self.jwks = {"keys": [public], "groups": ["identity-governance"]}

    def decision(self, verdict: str) -> dict:
        claims = {"request_id": "r 1", "decision": verdict, "approver": {"id": "alice"}, "reason": "x"}
        return {"status": "accepted", "approver": "alice", "jws": signed(claims, self.alice)}

    def test_an_approval_without_verified_approvers_is_refused(self) -> None:
        lying = Canned({"/v1/requests/r%201": {"status": "approved", "tier": "single_approval", "decisions": []}})
        with self.assertRaises(VerificationError):
            lying.outcome("r 1")

    def test_a_dual_approval_needs_two_verified_people(self) -> None:
        one = Canned(
            {
                "/v1/requests/r%201": {"status": "approved", "tier": "dual_approval", "decisions": [self.decision("approve")]},
                "/v1/approvers/alice/jwks": self.jwks,
            }
        )
        with self.assertRaises(VerificationError):
            one.outcome("r 1")

    def test_a_backed_outcome_is_returned_and_ids_are_path_segments(self) -> None:
        good = Canned(
            {
                "/v1/requests/r%201": {"status": "approved", "tier": "single_approval", "decisions": [self.decision("approve")]},
                "/v1/approvers/alice/jwks": self.jwks,
            }
        )
        outcome = good.outcome("r 1")
        self.assertTrue(outcome.final)
        self.assertEqual(outcome.decisions[0]["approver"]["id"], "alice")
        self.assertTrue(good.paths[0].startswith("/v1/requests/r%201?wait="))
        denied = Canned({"/v1/requests/r%201": {"status": "denied", "decisions": []}})
        with self.assertRaises(VerificationError):
            denied.outcome("r 1")


if __name__ == "__main__":
    unittest.main()
